import HalyardRules

/// Who signed a commit, once the signature is verified against the configured keys.
public struct Signer: Sendable, Equatable, CustomStringConvertible {
    /// How the commit was signed.
    public enum Method: String, Sendable, Equatable {
        /// An SSH key listed in `repo.verify.allowedSigners`.
        case ssh
        /// An OpenPGP key in `repo.verify.gpgKeyring`, checked by `gpgv`.
        case openPGP = "gpg"
    }

    /// How the commit was signed.
    public let method: Method
    /// The principals of the `allowed_signers` line (comma-separated), or the OpenPGP user id.
    public let name: String
    /// The key: `ED25519 SHA256:…` for SSH, the primary key's fingerprint for OpenPGP.
    public let key: String

    /// Creates a signer.
    public init(method: Method, name: String, key: String) {
        self.method = method
        self.name = name
        self.key = key
    }

    /// `ada@example.com (ssh ED25519 SHA256:…)`.
    public var description: String { "\(name) (\(method.rawValue) \(key))" }
}

/// Why a commit's signature does not satisfy the signature policy; the commit is rejected like an invalid one.
public struct SignatureFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The three reasons, each with its own diagnostic code and metric label.
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        /// The commit carries no signature.
        case unsigned = "unsigned-commit"
        /// The signing key is not listed (not in `allowed_signers`, not in the keyring, or not for this namespace or time).
        case unknownKey = "unknown-signing-key"
        /// The signature does not verify: the commit was changed after signing, or the signature is malformed,
        /// expired, revoked or of a kind Halyard cannot check.
        case badSignature = "bad-signature"

        /// The value of the `reason` label of `halyard_commits_rejected_total`.
        public var metricLabel: String {
            switch self {
            case .unsigned: return "unsigned"
            case .unknownKey: return "unknown_key"
            case .badSignature: return "bad_signature"
            }
        }
    }

    /// Why the commit is refused.
    public let reason: Reason
    /// One line saying what is wrong, in lower case without a trailing period.
    public let message: String
    /// The signing key (`ED25519 SHA256:…`, an OpenPGP fingerprint or key id), when known.
    public let key: String?
    /// The signer's principals or user id, when known.
    public let signer: String?

    /// Creates a failure.
    public init(_ reason: Reason, _ message: String, key: String? = nil, signer: String? = nil) {
        self.reason = reason
        self.message = message
        self.key = key
        self.signer = signer
    }

    /// The diagnostic code: `unsigned-commit`, `unknown-signing-key` or `bad-signature`.
    public var code: String { reason.rawValue }

    /// `bad-signature: …`.
    public var description: String { "\(code): \(message)" }

    /// The finding a rejection shows: the commit as the file, `/gpgsig` (the commit header that holds a signature) as
    /// the pointer, and the code.
    public func diagnostic(commit: String) -> Diagnostic {
        let hint: String
        switch reason {
        case .unsigned: hint = "sign the commit (git commit -S) with a key listed in repo.verify.allowedSigners or repo.verify.gpgKeyring"
        case .unknownKey: hint = "add the key to repo.verify.allowedSigners or repo.verify.gpgKeyring if it may sign flag changes"
        case .badSignature: hint = "the commit is not what was signed; do not deploy it, re-sign a reviewed commit instead"
        }
        return Diagnostic(severity: .error, file: commit, pointer: "/gpgsig", message: message, hint: hint, code: code)
    }
}

/// The outcome of checking one commit's signature.
public enum SignatureCheck: Sendable, Equatable {
    /// A valid signature by a listed key.
    case verified(Signer)
    /// No valid signature by a listed key.
    case failed(SignatureFailure)

    /// The signer, when verified.
    public var signer: Signer? {
        if case .verified(let signer) = self { return signer }
        return nil
    }

    /// The failure, when not verified.
    public var failure: SignatureFailure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }
}
