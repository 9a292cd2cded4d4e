/// Which servers a clone or fetch trusts, beyond what the system trusts by default.
///
/// - ``certificateAuthorityFile``: PEM certificates of extra certificate authorities for an `https://` remote
///   (`repo.tls.caFile`), such as a company CA. The system's CAs stay trusted.
/// - ``knownHostsFile``: an OpenSSH `known_hosts` file (`repo.auth.knownHosts`). When it is set, an `ssh://` remote is
///   accepted only if the host key it presents is listed there for its host (and port); an unknown or different key is
///   refused with an error that says which. Without it, libgit2 checks `~/.ssh/known_hosts` of the service's user.
///
/// ```swift
/// let trust = RemoteTrust(knownHostsFile: "/etc/halyard/known_hosts")
/// let mirror = try Repository.cloneMirror(from: "ssh://git@git.example.com/flags.git", to: path,
///                                          credentials: .sshKey(privateKeyPath: "/etc/halyard/id_ed25519"), trust: trust)
/// ```
public struct RemoteTrust: Sendable, Equatable, CustomStringConvertible {
    /// A PEM file of extra CA certificates for HTTPS remotes.
    public var certificateAuthorityFile: String?
    /// An OpenSSH `known_hosts` file that SSH host keys are checked against.
    public var knownHostsFile: String?

    /// Creates the trust settings; nil keeps the system's defaults for that transport.
    public init(certificateAuthorityFile: String? = nil, knownHostsFile: String? = nil) {
        self.certificateAuthorityFile = certificateAuthorityFile
        self.knownHostsFile = knownHostsFile
    }

    /// `system defaults`, or the files it names.
    public var description: String {
        var parts: [String] = []
        if let certificateAuthorityFile { parts.append("CA file \(certificateAuthorityFile)") }
        if let knownHostsFile { parts.append("known_hosts \(knownHostsFile)") }
        return parts.isEmpty ? "system defaults" : parts.joined(separator: ", ")
    }
}
