/// How to authenticate to a git remote: an HTTPS user name and password (usually an access token), or an SSH key.
///
/// Halyard reads these once from its configuration and hands them to every clone and fetch. The secrets never appear
/// in ``description``, so a `Credentials` value is safe to log.
///
/// ```swift
/// let github = Credentials.token(ProcessInfo.processInfo.environment["HALYARD_GIT_TOKEN"]!)
/// let deployKey = Credentials.sshKey(privateKeyPath: "/etc/halyard/id_ed25519")
/// ```
public struct Credentials: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case userPassword(username: String, password: String)
        case sshKey(username: String, publicKeyPath: String?, privateKeyPath: String, passphrase: String?)
    }

    let kind: Kind

    /// HTTPS basic authentication with an access token as the password; GitHub accepts any user name with a token,
    /// "x-access-token" being the conventional one (GitLab: "oauth2").
    public static func token(_ token: String, username: String = "x-access-token") -> Credentials {
        Credentials(kind: .userPassword(username: username, password: token))
    }

    /// HTTPS basic authentication with a user name and password.
    public static func userPassword(username: String, password: String) -> Credentials {
        Credentials(kind: .userPassword(username: username, password: password))
    }

    /// SSH public-key authentication with key files on disk.
    ///
    /// Use an ed25519 or ECDSA key: libssh2 signs RSA keys with SHA-1 (`ssh-rsa`), which current servers refuse.
    /// - Parameters:
    ///   - privateKeyPath: The private key file.
    ///   - publicKeyPath: The public key file; nil lets libssh2 derive it from the private key.
    ///   - passphrase: The private key's passphrase, if it has one.
    ///   - username: The SSH user; it is used even when the URL names another one.
    public static func sshKey(
        privateKeyPath: String,
        publicKeyPath: String? = nil,
        passphrase: String? = nil,
        username: String = "git"
    ) -> Credentials {
        Credentials(kind: .sshKey(username: username, publicKeyPath: publicKeyPath, privateKeyPath: privateKeyPath, passphrase: passphrase))
    }

    /// The user name presented to the remote.
    public var username: String {
        switch kind {
        case .userPassword(let username, _), .sshKey(let username, _, _, _): username
        }
    }

    /// The secret values (password or token, key passphrase), for masking wherever they might be echoed.
    var secrets: [String] {
        switch kind {
        case .userPassword(_, let password): [password]
        case .sshKey(_, _, _, let passphrase): passphrase.map { [$0] } ?? []
        }
    }

    /// A description without secrets, e.g. `HTTPS credentials for user 'x-access-token'`.
    public var description: String {
        switch kind {
        case .userPassword(let username, _): "HTTPS credentials for user '\(username)'"
        case .sshKey(let username, _, let privateKeyPath, _): "SSH key \(privateKeyPath) for user '\(username)'"
        }
    }
}

/// What a fetch transferred, for logs and metrics.
public struct FetchResult: Sendable, Equatable {
    /// Objects downloaded (0 when the mirror was already up to date).
    public var receivedObjects: Int
    /// Bytes of pack data downloaded.
    public var receivedBytes: Int

    /// Creates a result.
    public init(receivedObjects: Int, receivedBytes: Int) {
        self.receivedObjects = receivedObjects
        self.receivedBytes = receivedBytes
    }
}
