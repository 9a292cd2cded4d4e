import Foundation
import HalyardGit

/// Which keys may sign the commits Halyard applies (`repo.verify.allowedSigners`, `repo.verify.gpgKeyring`, DESIGN §14).
///
/// With either file set, a commit is applied only when it carries a valid signature by a listed key; otherwise it is
/// rejected like an invalid commit, with a ``SignatureFailure`` saying why. SSH signatures are checked in process
/// against the `allowed_signers` file, OpenPGP signatures by `gpgv` against the keyring. Both files are read at every
/// check, so a key added or removed takes effect at the next commit without a restart.
///
/// ```swift
/// let policy = SignaturePolicy(allowedSigners: "/etc/halyard/allowed_signers")
/// switch try policy.check(commit: tip, in: repository) {
/// case .verified(let signer): print("signed by \(signer)")
/// case .failed(let failure): print("rejected: \(failure)")
/// }
/// ```
public struct SignaturePolicy: Sendable, Equatable {
    /// The SSH `allowed_signers` file, if SSH signatures are accepted.
    public var allowedSignersFile: String?
    /// The OpenPGP keyring file for `gpgv` (binary or ASCII-armored), if GPG signatures are accepted.
    public var gpgKeyringFile: String?
    /// The `gpgv` executable.
    public var gpgvPath: String

    /// Creates a policy; with neither file, every commit is accepted unchecked.
    public init(allowedSigners: String? = nil, gpgKeyring: String? = nil, gpgvPath: String = "/usr/bin/gpgv") {
        self.allowedSignersFile = allowedSigners
        self.gpgKeyringFile = gpgKeyring
        self.gpgvPath = gpgvPath
    }

    /// Whether commits must be signed.
    public var isEnabled: Bool { allowedSignersFile != nil || gpgKeyringFile != nil }

    /// Reads the configured files once, so a service or a command can refuse a broken setting before it starts.
    /// Returns the warnings (skipped `cert-authority` lines).
    public func validate() throws(SignatureConfigurationError) -> [String] {
        var warnings: [String] = []
        if let allowedSignersFile {
            warnings += try AllowedSigners(contentsOf: allowedSignersFile).warnings
        }
        if let gpgKeyringFile {
            guard FileManager.default.isReadableFile(atPath: gpgKeyringFile) else {
                throw SignatureConfigurationError(path: gpgKeyringFile, message: "cannot read the GPG keyring")
            }
            guard FileManager.default.isExecutableFile(atPath: gpgvPath) else {
                throw SignatureConfigurationError(path: gpgvPath, message: "gpgv is needed to check GPG signatures (Debian: apt-get install gpgv)")
            }
        }
        return warnings
    }

    /// Checks the signature of `commit`.
    ///
    /// - Returns: ``SignatureCheck/verified(_:)`` with the signer, or ``SignatureCheck/failed(_:)`` with the reason.
    /// - Throws: ``SnapshotError`` when git fails or a configured file (or `gpgv`) cannot be used; the commit is then
    ///   neither applied nor rejected, and the check runs again at the next cycle.
    public func check(commit: ObjectID, in repository: Repository) throws(SnapshotError) -> SignatureCheck {
        let signed: CommitSignature?
        do {
            signed = try repository.signature(ofCommit: commit)
        } catch {
            throw .git(error)
        }
        guard let signed else {
            return .failed(SignatureFailure(.unsigned, "the commit is not signed, and repo.verify requires a signature by a listed key"))
        }
        do {
            switch signed.format {
            case .ssh:
                return try checkSSH(signed, commit: commit, in: repository)
            case .openPGP:
                guard let gpgKeyringFile else {
                    return .failed(SignatureFailure(.unknownKey, "the commit has a GPG signature, and repo.verify.gpgKeyring is not set"))
                }
                return try GPGVerifier(keyringPath: gpgKeyringFile, gpgvPath: gpgvPath)
                    .verify(signature: signed.signature, signedData: signed.signedData)
            case .x509:
                return .failed(SignatureFailure(.badSignature, "the commit has an X.509 (gpgsm) signature, which Halyard cannot check"))
            case .unknown:
                return .failed(SignatureFailure(.badSignature, "the commit's signature is in an unknown format"))
            }
        } catch {
            throw .io(path: error.path + (error.line.map { ":\($0)" } ?? ""), message: error.message)
        }
    }

    private func checkSSH(_ signed: CommitSignature, commit: ObjectID, in repository: Repository) throws(SignatureConfigurationError)
        -> SignatureCheck
    {
        let signature: SSHSignature
        do {
            signature = try SSHSignature(armored: signed.signature)
        } catch {
            return .failed(SignatureFailure(.badSignature, "the SSH signature cannot be read: \(error)"))
        }
        let key = signature.publicKey
        let keyName = "\(key.displayType) \(key.fingerprint)"
        guard let allowedSignersFile else {
            return .failed(
                SignatureFailure(.unknownKey, "signed with SSH key \(keyName), and repo.verify.allowedSigners is not set", key: keyName)
            )
        }
        let listed = try AllowedSigners(contentsOf: allowedSignersFile).entries(for: key)
        guard !listed.isEmpty else {
            return .failed(SignatureFailure(.unknownKey, "signed with SSH key \(keyName), which is not in \(allowedSignersFile)", key: keyName))
        }
        let forGit = listed.filter { $0.namespaces == nil || $0.namespaces!.contains("git") }
        guard !forGit.isEmpty else {
            return .failed(
                SignatureFailure(
                    .unknownKey,
                    "SSH key \(keyName) is listed in \(allowedSignersFile) (line \(listed[0].line)) but not for the namespace git",
                    key: keyName,
                    signer: listed[0].principals.joined(separator: ",")
                )
            )
        }
        let committed = (try? repository.commit(commit))?.committer.time
        let valid = forGit.filter { entry in
            guard let committed else { return entry.validAfter == nil && entry.validBefore == nil }
            return (entry.validAfter.map { committed >= $0 } ?? true) && (entry.validBefore.map { committed <= $0 } ?? true)
        }
        guard let entry = valid.first else {
            return .failed(
                SignatureFailure(
                    .unknownKey,
                    "SSH key \(keyName) is not valid at the commit's time (valid-after/valid-before, line \(forGit[0].line))",
                    key: keyName,
                    signer: forGit[0].principals.joined(separator: ",")
                )
            )
        }
        let principals = entry.principals.joined(separator: ",")
        do {
            guard try signature.verify(signed.signedData) else {
                return .failed(
                    SignatureFailure(
                        .badSignature,
                        "bad SSH signature by \(principals) (\(keyName)): the commit does not match its signature",
                        key: keyName,
                        signer: principals
                    )
                )
            }
        } catch {
            return .failed(
                SignatureFailure(
                    .badSignature,
                    "the SSH signature by \(principals) (\(keyName)) cannot be checked: \(error)",
                    key: keyName,
                    signer: principals
                )
            )
        }
        return .verified(Signer(method: .ssh, name: principals, key: keyName))
    }
}
