import Foundation
import HalyardGit
import HalyardTesting
import Testing

/// A working repository with one flag commit, cloned bare to `bare` (the path a test server serves).
private func makeUpstream(bare: String) throws -> (work: GitRepository, first: String) {
    let work = try GitRepository(prefix: "halyard-transport-work")
    try work.write("flags/production/a.json", "{\"active\": true}\n")
    let first = try work.commit("First")
    try Git.run(["clone", "-q", "--bare", work.path, bare], in: "/")
    return (work, first)
}

/// Commits a change in `work` and pushes it straight into the served bare repository.
private func pushChange(from work: GitRepository, to bare: String) throws -> String {
    try work.write("flags/staging/b.json", "{\"active\": false}\n")
    let commit = try work.commit("Second")
    try work.git("push", "-q", bare, "main")
    return commit
}

/// Mirroring over HTTPS from Debian's nginx + git-http-backend, TLS from a test CA, token (basic) auth.
@Suite(.serialized, .enabled(if: GitHTTPSServer.unavailableReason == nil, Comment(rawValue: GitHTTPSServer.unavailableReason ?? "")))
struct HTTPSTransportTests {
    @Test func mirrorAndFetchANewCommitOverHTTPS() throws {
        let token = "tok-\(UUID().uuidString)"
        let server = try GitHTTPSServer(username: "halyard", token: token)
        defer { server.stop() }
        let (work, first) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        let mirrorDirectory = try TemporaryDirectory.make(prefix: "halyard-https-mirror")
        defer { try? FileManager.default.removeItem(atPath: mirrorDirectory) }
        let mirrorPath = mirrorDirectory + "/mirror.git"
        let trust = RemoteTrust(certificateAuthorityFile: server.certificateAuthority.certificatePath)

        let mirror = try Repository.cloneMirror(
            from: server.url("flags.git"), to: mirrorPath, credentials: .token(token, username: "halyard"), trust: trust
        )
        #expect(try mirror.referenceTarget("refs/heads/main")?.hex == first)
        #expect(try mirror.defaultRemoteBranch() == "main")

        let second = try pushChange(from: work, to: server.repositoryPath("flags.git"))
        let result = try mirror.fetch(remote: "origin", credentials: .token(token, username: "halyard"), trust: trust)
        #expect(result.receivedObjects > 0, "\(server.logs)")
        #expect(try mirror.referenceTarget("refs/heads/main")?.hex == second)
    }

    @Test func aWrongTokenFailsClearlyAndIsNotEchoed() throws {
        let server = try GitHTTPSServer(username: "halyard", token: "the-right-token")
        defer { server.stop() }
        let (work, _) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        let mirrorDirectory = try TemporaryDirectory.make(prefix: "halyard-https-mirror")
        defer { try? FileManager.default.removeItem(atPath: mirrorDirectory) }
        let mirrorPath = mirrorDirectory + "/mirror.git"
        let wrong = "WRONG-TOKEN-\(UUID().uuidString)"

        let error = try #require(throws: GitError.self) {
            try Repository.cloneMirror(
                from: server.url("flags.git"), to: mirrorPath, credentials: .token(wrong, username: "halyard"),
                trust: RemoteTrust(certificateAuthorityFile: server.certificateAuthority.certificatePath)
            )
        }
        #expect(error.isAuthenticationFailure, "\(error)")
        #expect(error.description.contains("rejected the password or token for user 'halyard'"), "\(error)")
        #expect(error.description.contains(server.url("flags.git")), "\(error)")
        #expect(!error.description.contains(wrong), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: mirrorPath), "a failed clone leaves no half mirror behind")
    }

    @Test func aCertificateFromAnotherCAIsRefused() throws {
        let server = try GitHTTPSServer(username: "halyard", token: "token")
        defer { server.stop() }
        let (work, _) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        let sandbox = try TemporaryDirectory.make(prefix: "halyard-https-other")
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        let otherCA = try TestCertificateAuthority(in: sandbox, name: "other")

        // Trusting another CA does not make the server's certificate trusted.
        let error = try #require(throws: GitError.self) {
            try Repository.cloneMirror(
                from: server.url("flags.git"), to: sandbox + "/mirror.git", credentials: .token("token", username: "halyard"),
                trust: RemoteTrust(certificateAuthorityFile: otherCA.certificatePath)
            )
        }
        #expect(error.isCertificateFailure, "\(error)")
        #expect(error.description.contains("the TLS certificate of 'localhost' is not trusted"), "\(error)")
        #expect(error.description.contains(otherCA.certificatePath), "the error names the configured CA file: \(error)")

        // Nor does trusting nothing extra: the test CA is no system CA.
        let untrusted = try #require(throws: GitError.self) {
            try Repository.cloneMirror(from: server.url("flags.git"), to: sandbox + "/mirror2.git", credentials: .token("token", username: "halyard"))
        }
        #expect(untrusted.isCertificateFailure, "\(untrusted)")
        #expect(untrusted.description.contains("set repo.tls.caFile"), "\(untrusted)")
    }

    @Test func aCAFileThatIsMissingOrHoldsNoCertificateIsNamed() throws {
        let sandbox = try TemporaryDirectory.make(prefix: "halyard-https-cafile")
        defer { try? FileManager.default.removeItem(atPath: sandbox) }
        try "not a certificate\n".write(toFile: sandbox + "/bad.pem", atomically: true, encoding: .utf8)
        for (file, expected) in [(sandbox + "/missing.pem", "cannot read the CA file"), (sandbox + "/bad.pem", "holds no PEM certificate")] {
            let error = try #require(throws: GitError.self) {
                try Repository.cloneMirror(
                    from: "https://localhost:1/flags.git", to: sandbox + "/mirror.git", credentials: nil,
                    trust: RemoteTrust(certificateAuthorityFile: file)
                )
            }
            #expect(error.description.contains(expected) && error.description.contains(file), "\(error)")
        }
    }
}

/// Why the SSH tests cannot run here, or nil.
private let sshUnavailableReason: String? =
    SSHServer.unavailableReason
    ?? (Libgit2.supportsSSH
        ? nil : "SSH transport test skipped: this machine's libgit2 \(Libgit2.version) was built without SSH support (GIT_FEATURE_SSH)")

/// Mirroring over SSH from Debian's OpenSSH server, key auth, the host key checked against a known_hosts file.
@Suite(.serialized, .enabled(if: sshUnavailableReason == nil, Comment(rawValue: sshUnavailableReason ?? "")))
struct SSHTransportTests {
    private func credentials(_ server: SSHServer, publicKey: Bool = true) -> Credentials {
        .sshKey(privateKeyPath: server.clientKeyPath, publicKeyPath: publicKey ? server.clientKeyPath + ".pub" : nil, username: server.user)
    }

    @Test(arguments: [true, false])
    func mirrorAndFetchANewCommitOverSSH(givingThePublicKey: Bool) throws {
        let server = try SSHServer()
        defer { server.stop() }
        let (work, first) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        let knownHosts = server.directory + "/known_hosts"
        let unrelated = "git.example.com ssh-ed25519 \(Data("another host's key".utf8).base64EncodedString())"
        try "# test\n\(unrelated)\n\(server.knownHostsLine)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let trust = RemoteTrust(knownHostsFile: knownHosts)
        let mirrorPath = server.directory + "/mirror.git"

        let mirror = try Repository.cloneMirror(
            from: server.url("flags.git"), to: mirrorPath, credentials: credentials(server, publicKey: givingThePublicKey), trust: trust
        )
        #expect(try mirror.referenceTarget("refs/heads/main")?.hex == first, "\(server.log)")

        let second = try pushChange(from: work, to: server.repositoryPath("flags.git"))
        let result = try mirror.fetch(remote: "origin", credentials: credentials(server, publicKey: givingThePublicKey), trust: trust)
        #expect(result.receivedObjects > 0)
        #expect(try mirror.referenceTarget("refs/heads/main")?.hex == second)
    }

    @Test func anUnknownHostKeyIsRefused() throws {
        let server = try SSHServer()
        defer { server.stop() }
        let (work, _) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        // The same key, listed for another port: the host is unknown on this one.
        let knownHosts = server.directory + "/known_hosts"
        let otherPort = server.knownHostsLine.replacingOccurrences(of: "]:\(server.port) ", with: "]:\(server.port + 1) ")
        try (otherPort + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)

        let error = try #require(throws: GitError.self) {
            try Repository.cloneMirror(
                from: server.url("flags.git"), to: server.directory + "/mirror.git", credentials: credentials(server),
                trust: RemoteTrust(knownHostsFile: knownHosts)
            )
        }
        #expect(error.isCertificateFailure, "\(error)")
        #expect(error.description.contains("the SSH host key of [127.0.0.1]:\(server.port) (ssh-ed25519 SHA256:"), "\(error)")
        #expect(error.description.contains("has no entry for [127.0.0.1]:\(server.port)"), "\(error)")
        #expect(error.description.contains(knownHosts), "\(error)")
        #expect(!server.log.contains("Accepted publickey"), "the key is never offered to an unverified server: \(server.log)")
    }

    @Test func aChangedHostKeyIsRefused() throws {
        let server = try SSHServer()
        defer { server.stop() }
        let (work, _) = try makeUpstream(bare: server.repositoryPath("flags.git"))
        defer { work.destroy() }
        // Another ed25519 key listed for exactly this host and port, as after a server swap or an interception.
        try Loopback.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", server.directory + "/impostor"])
        let impostor = try String(contentsOfFile: server.directory + "/impostor.pub", encoding: .utf8).split(separator: " ")
        let knownHosts = server.directory + "/known_hosts"
        try "[127.0.0.1]:\(server.port) \(impostor[0]) \(impostor[1])\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)

        let error = try #require(throws: GitError.self) {
            try Repository.cloneMirror(
                from: server.url("flags.git"), to: server.directory + "/mirror.git", credentials: credentials(server),
                trust: RemoteTrust(knownHostsFile: knownHosts)
            )
        }
        #expect(error.isCertificateFailure, "\(error)")
        #expect(error.description.contains("does not match the key \(knownHosts) (repo.auth.knownHosts) lists"), "\(error)")
        #expect(error.description.contains("intercepting"), "\(error)")
    }
}
