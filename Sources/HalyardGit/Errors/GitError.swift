internal import CLibgit2

/// A failure reported by libgit2 (or by HalyardGit around it), with what Halyard was doing at the time.
///
/// Every libgit2 call that fails becomes a `GitError`. libgit2's own message rarely says which repository or revision
/// was involved, so ``operation`` records that ("resolve revision 'HEAD~2' in /srv/flags"), and ``description`` reads
/// as one line fit for a log or an HTTP error body:
///
/// ```
/// cannot resolve revision 'nope' in /tmp/r: revspec 'nope' not found
/// ```
///
/// No secret survives into an error: the credentials in a URL's user info are masked (``CredentialRedaction``) in
/// ``message`` and ``operation`` when the error is made, and again in ``description``.
public struct GitError: Error, Sendable, CustomStringConvertible {
    /// libgit2's error code (`git_error_code`, e.g. `-3` for `GIT_ENOTFOUND`), always negative.
    public var code: Int32
    /// libgit2's error class (`git_error_t`, e.g. `4` for references, `34` for HTTP), or 0 when none was set.
    public var errorClass: Int32
    /// libgit2's message, or HalyardGit's own when libgit2 gave none (callback failures, argument checks).
    public var message: String
    /// What Halyard was doing, phrased to follow "cannot", e.g. "fetch from 'origin' (https://…) into /srv/mirror".
    public var operation: String

    /// Creates an error; HalyardGit builds these from libgit2's error state, tests and fakes may build their own.
    public init(code: Int32, errorClass: Int32, message: String, operation: String) {
        self.code = code
        self.errorClass = errorClass
        self.message = CredentialRedaction.redact(message)
        self.operation = CredentialRedaction.redact(operation)
    }

    /// Whether the thing looked up (revision, reference, object, path, remote, repository) does not exist.
    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    /// Whether the remote refused or required authentication (`GIT_EAUTH`).
    public var isAuthenticationFailure: Bool { code == GIT_EAUTH.rawValue }

    /// Whether a TLS certificate or SSH host key was not trusted (`GIT_ECERTIFICATE`).
    public var isCertificateFailure: Bool { code == GIT_ECERTIFICATE.rawValue }

    /// One line: "cannot <operation>: <message>", with credentials masked.
    public var description: String {
        CredentialRedaction.redact(message.isEmpty ? "cannot \(operation)" : "cannot \(operation): \(message)")
    }

    /// The calling thread's last libgit2 error for a call that returned `code`.
    static func last(_ code: Int32, operation: String) -> GitError {
        guard let error = git_error_last() else {
            return GitError(code: code, errorClass: 0, message: "unknown libgit2 error \(code)", operation: operation)
        }
        var message = String(gitString: error.pointee.message)
        while message.last?.isWhitespace == true {
            message.removeLast()
        }
        return GitError(code: code, errorClass: error.pointee.klass, message: message, operation: operation)
    }

    /// An error HalyardGit raises itself (no libgit2 error state involved).
    static func halyard(_ code: git_error_code, _ errorClass: git_error_t, _ message: String, operation: String) -> GitError {
        GitError(code: code.rawValue, errorClass: Int32(errorClass.rawValue), message: message, operation: operation)
    }
}
