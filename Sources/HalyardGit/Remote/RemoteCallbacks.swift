internal import CLibgit2

/// The state behind libgit2's remote callbacks during one clone or fetch.
///
/// C callbacks cannot capture Swift values, so this object travels as the callbacks' `payload`. It caps credential
/// attempts (libgit2 asks again after every rejection) and records why a callback refused, because libgit2 keeps no
/// useful message when a callback fails.
final class RemoteCallbacks {
    /// How many times the same credentials are offered before giving up.
    static let maximumAttempts = 3

    let url: String
    let credentials: Credentials?
    private(set) var attempts = 0
    private var failure: (code: git_error_code, errorClass: git_error_t, message: String)?

    init(url: String, credentials: Credentials?) {
        self.url = url
        self.credentials = credentials
    }

    /// Wires `callbacks` to this object; keep the object alive (`withExtendedLifetime`) while libgit2 may call them.
    func install(in callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        if credentials != nil {
            callbacks.credentials = { out, _, usernameFromURL, allowedTypes, payload in
                guard let out, let payload else { return GIT_PASSTHROUGH.rawValue }
                let state = Unmanaged<RemoteCallbacks>.fromOpaque(payload).takeUnretainedValue()
                return state.acquireCredential(out, usernameFromURL: usernameFromURL, allowedTypes: allowedTypes)
            }
        }
        callbacks.certificate_check = { certificate, valid, host, payload in
            guard valid == 0 else { return 0 }
            guard let payload else { return GIT_ECERTIFICATE.rawValue }
            let state = Unmanaged<RemoteCallbacks>.fromOpaque(payload).takeUnretainedValue()
            return state.rejectCertificate(isSSH: certificate?.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2, host: String(gitString: host))
        }
    }

    /// The error for a failed libgit2 call that ran with these callbacks; call it right after that call.
    ///
    /// The configured token, password or passphrase is masked wherever the remote or libgit2 echoed it.
    func error(for result: Int32, operation: String) -> GitError {
        var error: GitError
        if let failure {
            error = .halyard(failure.code, failure.errorClass, failure.message, operation: operation)
        } else {
            error = GitError.last(result, operation: operation)
            if error.isAuthenticationFailure && credentials == nil {
                error.message = "the remote requires authentication and no credentials are configured (\(error.message))"
            }
        }
        let secrets = credentials?.secrets ?? []
        error.message = CredentialRedaction.redact(error.message, secrets: secrets)
        error.operation = CredentialRedaction.redact(error.operation, secrets: secrets)
        return error
    }

    private func acquireCredential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>,
        usernameFromURL: UnsafePointer<CChar>?,
        allowedTypes: UInt32
    ) -> Int32 {
        guard let credentials else { return GIT_PASSTHROUGH.rawValue }
        let allows = { (type: git_credential_t) in allowedTypes & type.rawValue != 0 }
        switch credentials.kind {
        case .userPassword(let username, let password):
            guard allows(GIT_CREDENTIAL_USERPASS_PLAINTEXT) else {
                return refuse("\(url) does not accept a user name and password; it wants \(Self.describe(allowedTypes))")
            }
            guard countAttempt() else {
                return refuse("\(url) rejected the password or token for user '\(username)' (\(Self.maximumAttempts) attempts)")
            }
            return git_credential_userpass_plaintext_new(out, username, password)
        case .sshKey(let username, let publicKeyPath, let privateKeyPath, let passphrase):
            if allows(GIT_CREDENTIAL_USERNAME) && !allows(GIT_CREDENTIAL_SSH_KEY) {
                return git_credential_username_new(out, username)
            }
            guard allows(GIT_CREDENTIAL_SSH_KEY) else {
                return refuse("\(url) does not accept an SSH key; it wants \(Self.describe(allowedTypes))")
            }
            guard countAttempt() else {
                return refuse("\(url) rejected the SSH key \(privateKeyPath) for user '\(username)' (\(Self.maximumAttempts) attempts)")
            }
            return git_credential_ssh_key_new(out, username, publicKeyPath, privateKeyPath, passphrase)
        }
    }

    private func countAttempt() -> Bool {
        attempts += 1
        return attempts <= Self.maximumAttempts
    }

    private func refuse(_ message: String) -> Int32 {
        failure = (GIT_EAUTH, GIT_ERROR_NET, message)
        return GIT_EAUTH.rawValue
    }

    private func rejectCertificate(isSSH: Bool, host: String) -> Int32 {
        let message =
            isSSH
            ? "the SSH host key of '\(host)' is not trusted (it is not in the known_hosts file of the service's user)"
            : "the TLS certificate of '\(host)' is not trusted (unknown certificate authority, expired, or issued for another name)"
        failure = (GIT_ECERTIFICATE, isSSH ? GIT_ERROR_SSH : GIT_ERROR_SSL, message)
        return GIT_ECERTIFICATE.rawValue
    }

    private static func describe(_ allowedTypes: UInt32) -> String {
        var kinds = [String]()
        if allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 { kinds.append("a user name and password") }
        if allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 { kinds.append("an SSH key") }
        if allowedTypes & GIT_CREDENTIAL_DEFAULT.rawValue != 0 { kinds.append("Negotiate/NTLM") }
        return kinds.isEmpty ? "another kind of credentials" : kinds.joined(separator: " or ")
    }
}
