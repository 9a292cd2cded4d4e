/// The signature block of a signed commit and the bytes it signs, as libgit2 extracts them.
///
/// A signed commit carries its signature in the `gpgsig` header; the signed data is the commit object without that
/// header. HalyardGit only extracts the two: checking the signature (SSH `sshsig`, OpenPGP) is the caller's job.
public struct CommitSignature: Sendable, Equatable {
    /// Which kind of signature the armored block holds, from its first line.
    public enum Format: String, Sendable, Equatable {
        /// `-----BEGIN SSH SIGNATURE-----`: OpenSSH's `sshsig` format (git's `gpg.format=ssh`).
        case ssh
        /// `-----BEGIN PGP SIGNATURE-----`: OpenPGP (git's default `gpg.format=openpgp`, GitHub's web merges).
        case openPGP
        /// `-----BEGIN SIGNED MESSAGE-----`: an X.509 (CMS) signature made with `gpgsm` (`gpg.format=x509`).
        case x509
        /// Anything else.
        case unknown
    }

    /// The armored signature block, without the header's continuation spaces.
    public var signature: [UInt8]
    /// The commit object without its signature header: the bytes the signature covers.
    public var signedData: [UInt8]

    /// Creates a value from the two buffers libgit2 returns.
    public init(signature: [UInt8], signedData: [UInt8]) {
        self.signature = signature
        self.signedData = signedData
    }

    /// The signature's format, read from its armor line.
    public var format: Format {
        let text = String(decoding: signature.prefix(64), as: UTF8.self)
        if text.hasPrefix("-----BEGIN SSH SIGNATURE-----") { return .ssh }
        if text.hasPrefix("-----BEGIN PGP SIGNATURE-----") { return .openPGP }
        if text.hasPrefix("-----BEGIN SIGNED MESSAGE-----") { return .x509 }
        return .unknown
    }
}
