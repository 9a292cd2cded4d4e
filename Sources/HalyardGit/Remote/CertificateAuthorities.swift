internal import CLibgit2
import Foundation
import Synchronization

/// The CA certificates libgit2 verifies HTTPS remotes against: the system's bundle plus every `repo.tls.caFile` used
/// in this process.
///
/// Why a process-wide, additive bundle rather than a check of our own in `certificate_check`:
/// - libgit2's only way to trust a CA is `GIT_OPT_SET_SSL_CERT_LOCATIONS`, which is process-global. Its mbedTLS backend
///   (Debian's build) *replaces* the trusted chain with the given file, so setting a CA file alone would make the
///   public CAs (GitHub, GitLab) untrusted; the OpenSSL backend adds to it. Writing one bundle of "system + extra"
///   behaves the same with both.
/// - Verifying in `certificate_check` ourselves is not sound with what libgit2 hands over: only the leaf certificate
///   (no intermediates), and Halyard would need its own X.509 path validation, signature, expiry and host name checks,
///   i.e. a second TLS stack. libgit2 already does all of that correctly once it knows the CA.
/// - A `halyard serve` follows one repository, so "process-wide" and "this remote" are the same thing there. In a
///   process with several remotes (the tests), trust only grows: a CA trusted for one remote is trusted for all, the
///   same as a CA added to the system store. That matches DESIGN §8: `repo.tls.caFile` is *extra* CAs to trust.
///
/// The file is re-read before every fetch; when its contents change (a rotated CA) the bundle is rebuilt, so no
/// restart is needed. The bundle is written to the temporary directory, readable by the service's user only.
enum CertificateAuthorities {
    /// Where Debian, Fedora/RHEL, openSUSE and Alpine keep the system CA bundle; the first one found is used.
    static let systemBundles = [
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem",
    ]

    private struct State {
        /// The contents of each extra CA file, by path, as last installed.
        var extra: [String: String] = [:]
        var bundlePath: String?
    }

    private static let state = Mutex(State())

    /// Makes libgit2 trust the certificates in `file` (PEM), in addition to the system's and those trusted before.
    ///
    /// - Throws: ``GitError`` (`GIT_ECERTIFICATE`) naming the file when it cannot be read or holds no certificate.
    static func trust(file: String, operation: String) throws(GitError) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .halyard(GIT_ECERTIFICATE, GIT_ERROR_SSL, "cannot read the CA file \(file) (repo.tls.caFile)", operation: operation)
        }
        let pem = String(decoding: data, as: UTF8.self)
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw .halyard(
                GIT_ECERTIFICATE, GIT_ERROR_SSL, "the CA file \(file) (repo.tls.caFile) holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                operation: operation
            )
        }
        let result: Result<Void, GitError> = state.withLock { state in
            guard state.extra[file] != pem else { return .success(()) }
            var extra = state.extra
            extra[file] = pem
            var bundle = ""
            if let system = systemBundles.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first {
                bundle = String(decoding: system, as: UTF8.self) + "\n"
            }
            for path in extra.keys.sorted() {
                bundle += "# \(path)\n" + extra[path]! + "\n"
            }
            let path = state.bundlePath ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("halyard-ca-\(getpid()).pem")
            guard FileManager.default.createFile(atPath: path, contents: Data(bundle.utf8), attributes: [.posixPermissions: 0o600]) else {
                return .failure(
                    .halyard(GIT_ECERTIFICATE, GIT_ERROR_SSL, "cannot write the CA bundle \(path) for \(file)", operation: operation)
                )
            }
            state.bundlePath = path
            if clibgit2_set_ssl_cert_locations(path, nil) < 0 {
                var error = GitError.last(-1, operation: operation)
                error.message = "libgit2 refused the CA file \(file) (repo.tls.caFile): \(error.message)"
                return .failure(error)
            }
            state.extra = extra
            return .success(())
        }
        try result.get()
    }
}
