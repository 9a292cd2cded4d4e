internal import CLibgit2
import Foundation

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
    let trust: RemoteTrust
    private(set) var attempts = 0
    private var failure: (code: git_error_code, errorClass: git_error_t, message: String)?

    init(url: String, credentials: Credentials?, trust: RemoteTrust = RemoteTrust()) {
        self.url = url
        self.credentials = credentials
        self.trust = trust
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
            guard let payload else { return valid != 0 ? 0 : GIT_ECERTIFICATE.rawValue }
            let state = Unmanaged<RemoteCallbacks>.fromOpaque(payload).takeUnretainedValue()
            return state.checkCertificate(certificate, valid: valid != 0, host: String(gitString: host))
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

    /// Accepts or refuses the server's TLS certificate or SSH host key.
    ///
    /// TLS: libgit2 has verified the chain, expiry and host name against the system CAs plus `repo.tls.caFile`
    /// (see ``CertificateAuthorities``); `valid` is its verdict. SSH with `repo.auth.knownHosts`: the raw host key is
    /// compared with the file's entries for `host` and the URL's port, whatever libgit2 concluded from
    /// `~/.ssh/known_hosts`; without that key, libgit2's verdict stands.
    private func checkCertificate(_ certificate: UnsafeMutablePointer<git_cert>?, valid: Bool, host: String) -> Int32 {
        let isSSH = certificate?.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2
        if isSSH, let knownHostsFile = trust.knownHostsFile, let certificate {
            let hostKey = UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_hostkey.self).pointee
            return checkHostKey(hostKey, host: host, knownHostsFile: knownHostsFile)
        }
        if valid { return 0 }
        let message: String
        if isSSH {
            message =
                "the SSH host key of '\(host)' is not trusted: it is not in the known_hosts file of the service's user "
                + "(set repo.auth.knownHosts to a known_hosts file that lists it)"
        } else if let caFile = trust.certificateAuthorityFile {
            message =
                "the TLS certificate of '\(host)' is not trusted: it is not issued by a CA in \(caFile) (repo.tls.caFile) or the "
                + "system's, or it is expired, or issued for another name"
        } else {
            message =
                "the TLS certificate of '\(host)' is not trusted (unknown certificate authority, expired, or issued for another name; "
                + "set repo.tls.caFile to trust a private CA)"
        }
        return rejectCertificate(isSSH: isSSH, message: message)
    }

    private func checkHostKey(_ hostKey: git_cert_hostkey, host: String, knownHostsFile: String) -> Int32 {
        guard hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey, hostKey.hostkey_len > 0 else {
            return rejectCertificate(
                isSSH: true, message: "libgit2 did not hand over the SSH host key of '\(host)', so it cannot be checked against \(knownHostsFile)"
            )
        }
        let key = Array(UnsafeRawBufferPointer(start: raw, count: hostKey.hostkey_len))
        guard let knownHosts = KnownHosts(path: knownHostsFile) else {
            return rejectCertificate(isSSH: true, message: "cannot read the known_hosts file \(knownHostsFile) (repo.auth.knownHosts)")
        }
        let (urlHost, port) = KnownHosts.endpoint(ofURL: url) ?? (host, 22)
        let name = KnownHosts.hostName(host.isEmpty ? urlHost : host, port: port)
        var presented = KnownHosts.keyType(ofBlob: key) ?? "unknown key type"
        if hostKey.type.rawValue & GIT_CERT_SSH_SHA256.rawValue != 0 {
            let digest = withUnsafeBytes(of: hostKey.hash_sha256) { Data($0) }
            presented += " SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
        }
        let verdict = knownHosts.verdict(host: host.isEmpty ? urlHost : host, port: port, key: key)
        let skipped =
            knownHosts.unsupportedLines > 0
            ? " (\(knownHosts.unsupportedLines) hashed or @cert-authority line(s) of it were skipped: write the file with "
                + "ssh-keyscan without -H)" : ""
        switch verdict {
        case .trusted:
            return 0
        case .unknownHost:
            return rejectCertificate(
                isSSH: true,
                message: "the SSH host key of \(name) (\(presented)) is not trusted: \(knownHostsFile) (repo.auth.knownHosts) has no entry "
                    + "for \(name)\(skipped); check the fingerprint with the server's owner, then add the key, e.g. "
                    + "`ssh-keyscan -p \(port) \(host) >> \(knownHostsFile)`"
            )
        case .mismatch(let listedTypes):
            return rejectCertificate(
                isSSH: true,
                message: "the SSH host key of \(name) (\(presented)) does not match the key \(knownHostsFile) (repo.auth.knownHosts) lists "
                    + "for it (\(listedTypes.joined(separator: ", "))): the server's key changed, or someone is intercepting the connection"
            )
        case .revoked:
            return rejectCertificate(
                isSSH: true, message: "the SSH host key of \(name) (\(presented)) is marked @revoked in \(knownHostsFile) (repo.auth.knownHosts)"
            )
        }
    }

    private func rejectCertificate(isSSH: Bool, message: String) -> Int32 {
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
