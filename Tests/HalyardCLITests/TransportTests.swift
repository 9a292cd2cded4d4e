import Foundation
import HalyardGit
import HalyardTesting
import Testing

/// `halyard serve` following a repository over real HTTPS and SSH servers, configured as an operator would: the
/// config file's `repo.tls.caFile`, `repo.auth.*` keys; a commit pushed upstream is served after the next fetch.
@Suite(.serialized)
struct ServeTransportTests {
    /// A served bare repository with one commit, its working copy, and a directory for the config and data.
    private struct Upstream {
        let work: GitRepository
        let first: String
        let directory: String

        init(bare: String) throws {
            work = try GitRepository(prefix: "halyard-serve-transport")
            try work.write("flags/production/checkout.json", Flags.off + "\n")
            first = try work.commit("First")
            try Git.run(["clone", "-q", "--bare", work.path, bare], in: "/")
            directory = try TemporaryDirectory.make(prefix: "halyard-serve-transport-run")
        }

        func writeConfig(_ repo: [String: Any]) throws -> String {
            let config: [String: Any] = ["dataDir": directory + "/data", "repo": repo]
            let path = directory + "/halyard.json"
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
            return path
        }

        func pushChange(to bare: String) throws -> String {
            try work.write("flags/production/checkout.json", Flags.off.replacingOccurrences(of: "false", with: "true") + "\n")
            let commit = try work.commit("Second")
            try work.git("push", "-q", bare, "main")
            return commit
        }

        func remove() {
            work.destroy()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test(.enabled(if: GitHTTPSServer.unavailableReason == nil, Comment(rawValue: GitHTTPSServer.unavailableReason ?? "")))
    func serveFollowsAnHTTPSRemoteWithAPrivateCAAndAToken() async throws {
        let token = "tok-\(UUID().uuidString)"
        let server = try GitHTTPSServer(username: "halyard", token: token)
        defer { server.stop() }
        let bare = server.repositoryPath("flags.git")
        let upstream = try Upstream(bare: bare)
        defer { upstream.remove() }
        try token.write(toFile: upstream.directory + "/token", atomically: true, encoding: .utf8)
        let config = try upstream.writeConfig([
            "url": server.url("flags.git"), "pollInterval": "200ms",
            "tls": ["caFile": server.certificateAuthority.certificatePath],
            "auth": ["tokenFile": upstream.directory + "/token", "username": "halyard"],
        ])

        let serve = try await HalyardServeProcess.start(in: upstream.directory, config: config, logPath: upstream.directory + "/serve.log")
        defer { serve.kill() }
        try await serve.waitUntilApplied(upstream.first)
        let second = try upstream.pushChange(to: bare)
        try await serve.waitUntilApplied(second)
        #expect(!serve.log.contains(token), "the token never reaches the log")
    }

    @Test(.enabled(if: sshUnavailable == nil, Comment(rawValue: sshUnavailable ?? "")))
    func serveFollowsAnSSHRemoteWithAKeyAndKnownHosts() async throws {
        let server = try SSHServer()
        defer { server.stop() }
        let bare = server.repositoryPath("flags.git")
        let upstream = try Upstream(bare: bare)
        defer { upstream.remove() }
        let knownHosts = upstream.directory + "/known_hosts"
        try (server.knownHostsLine + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let config = try upstream.writeConfig([
            "url": server.url("flags.git"), "pollInterval": "200ms",
            "auth": ["sshKey": server.clientKeyPath, "username": server.user, "knownHosts": knownHosts],
        ])

        let serve = try await HalyardServeProcess.start(in: upstream.directory, config: config, logPath: upstream.directory + "/serve.log")
        defer { serve.kill() }
        try await serve.waitUntilApplied(upstream.first)
        let second = try upstream.pushChange(to: bare)
        try await serve.waitUntilApplied(second)
    }

    @Test(arguments: [("HALYARD_REPO_TLS_CA_FILE", "repo.tls.caFile"), ("HALYARD_REPO_AUTH_KNOWN_HOSTS", "repo.auth.knownHosts")])
    func anUnreadableTrustFileStopsStartUp(variable: String, key: String) throws {
        let directory = try TemporaryDirectory.make(prefix: "halyard-trust-file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = directory + "/no-such-file"
        let result = try HalyardBinary.run(
            ["serve", "--port", "0"], in: directory,
            environment: [variable: missing, "HALYARD_REPO_URL": "https://git.example.com/flags.git", "HALYARD_DATA_DIR": directory + "/data"]
        )
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("configuration key \(key): cannot read \(missing)"), "\(result.stderr)")
    }
}

/// Why the SSH test cannot run here, or nil.
private let sshUnavailable: String? =
    SSHServer.unavailableReason
    ?? (Libgit2.supportsSSH ? nil : "SSH test skipped: this machine's libgit2 \(Libgit2.version) was built without SSH support (GIT_FEATURE_SSH)")
