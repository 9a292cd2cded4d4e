//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Bare git repositories served over SSH on loopback by Debian's OpenSSH server (`sshd -D` with its own config, host
/// key and authorized keys), for the user the tests run as.
///
/// As root (CI) the login is root with `PermitRootLogin prohibit-password`, so only the generated key gets in; as
/// another user, sshd runs unprivileged and can only log that user in, which is the same thing.
///
/// ```swift
/// let server = try SSHServer()
/// defer { server.stop() }
/// // ssh://<server.user>@127.0.0.1:<port><server.repositoryPath("flags.git")>, key server.clientKeyPath,
/// // known_hosts: server.knownHostsLine
/// ```
public final class SSHServer {
    /// The directory everything lives in; removed by ``stop()``.
    public let directory: String
    /// The port sshd listens on, at 127.0.0.1.
    public let port: Int
    /// The user to log in as: the one running the tests.
    public let user: String
    /// The private key (ed25519, no passphrase) the server accepts; its public key is `<path>.pub`.
    public let clientKeyPath: String
    /// The server's host key in known_hosts form: `[127.0.0.1]:<port> ssh-ed25519 AAAA…`.
    public let knownHostsLine: String
    private let sshd: LoopbackDaemon

    /// Why the server cannot run here, or nil when it can.
    public static var unavailableReason: String? {
        let missing = [("/usr/sbin/sshd", "openssh-server"), ("/usr/bin/ssh-keygen", "openssh-client")]
            .filter { !FileManager.default.isExecutableFile(atPath: $0.0) }
        guard !missing.isEmpty else { return nil }
        return "SSH transport test skipped: missing " + missing.map { "\($0.0) (Debian package \($0.1))" }.joined(separator: ", ")
            + "; Scripts/test installs them"
    }

    /// Generates a host key and a client key, and starts sshd on a free loopback port.
    public init() throws {
        if let reason = Self.unavailableReason { throw LoopbackDaemonFailure(message: reason) }
        directory = try TemporaryDirectory.make(prefix: "halyard-ssh")
        try FileManager.default.createDirectory(atPath: directory + "/repos", withIntermediateDirectories: true)
        user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let hostKey = directory + "/host_ed25519"
        clientKeyPath = directory + "/client_ed25519"
        for (path, comment) in [(hostKey, "halyard-test-host"), (clientKeyPath, "halyard-test-client")] {
            try Loopback.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
        }
        try FileManager.default.copyItem(atPath: clientKeyPath + ".pub", toPath: directory + "/authorized_keys")
        if geteuid() == 0 {
            // sshd's privilege separation needs this directory; systemd makes it at boot, a container may not have it.
            try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        let config = directory + "/sshd_config"
        var lastError: (any Error)?
        var started: (LoopbackDaemon, Int)?
        for _ in 0..<3 where started == nil {
            let port = try Loopback.freePort()
            try Self.configuration(directory: directory, hostKey: hostKey).write(toFile: config, atomically: true, encoding: .utf8)
            let daemon = try LoopbackDaemon(
                name: "sshd", executable: "/usr/sbin/sshd", arguments: ["-D", "-e", "-f", config, "-p", String(port)],
                logPath: directory + "/sshd.log"
            )
            do {
                try daemon.waitUntil("listening on 127.0.0.1:\(port)") { Loopback.accepts(port: port) }
                started = (daemon, port)
            } catch {
                daemon.stop()
                lastError = error
            }
        }
        guard let started else { throw lastError ?? LoopbackDaemonFailure(message: "sshd did not start") }
        (sshd, port) = started
        let publicHostKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ")
        knownHostsLine = "[127.0.0.1]:\(port) \(publicHostKey[0]) \(publicHostKey[1])"
    }

    /// The path of a (bare) repository the server serves.
    public func repositoryPath(_ name: String) -> String { directory + "/repos/" + name }

    /// The `ssh://` URL of the repository `name`.
    public func url(_ name: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(repositoryPath(name))" }

    /// sshd's log, for a failing test's message.
    public var log: String { sshd.log }

    /// Stops sshd and removes the directory.
    public func stop() {
        sshd.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func configuration(directory: String, hostKey: String) -> String {
        """
        ListenAddress 127.0.0.1
        HostKey \(hostKey)
        PidFile \(directory)/sshd.pid
        AuthorizedKeysFile \(directory)/authorized_keys
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PrintMotd no
        LogLevel VERBOSE

        """
    }
}
