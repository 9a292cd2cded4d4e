import Foundation
import HalyardTesting
import Testing

/// `validate --verify-signatures`, `history` with signers, and `serve` with `repo.verify.*`, as processes.
@Suite(.serialized)
struct SignedCommitsCLITests {
    /// A flag repository with an SSH key listed in an allowed_signers file and one that is not.
    struct Fixture {
        let workspace: GitRepository
        let keys: String
        let ada: SSHSigningKey
        let stranger: SSHSigningKey
        let allowedSigners: String

        init() throws {
            workspace = try GitRepository(prefix: "halyard-cli-signed")
            keys = try TemporaryDirectory.make(prefix: "halyard-cli-keys")
            ada = try SSHSigningKey(.ed25519, in: keys, comment: "ada@example.com")
            stranger = try SSHSigningKey(.ecdsaP256, in: keys, comment: "mallory@example.com")
            allowedSigners = keys + "/allowed_signers"
            try (ada.allowedSignersLine(principal: "ada@example.com", options: #"namespaces="git""#) + "\n")
                .write(toFile: allowedSigners, atomically: true, encoding: .utf8)
        }

        func remove() {
            workspace.destroy()
            try? FileManager.default.removeItem(atPath: keys)
        }

        func validate(_ rev: String, _ extra: [String] = []) throws -> HalyardBinary.Result {
            try HalyardBinary.run(["validate", "--verify-signatures", "--rev", rev, "--allowed-signers", allowedSigners] + extra, in: workspace.path)
        }
    }

    @Test func testValidateVerifySignaturesExitCodesAndMessages() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let good = try fixture.workspace.commitSigned("signed by ada", with: fixture.ada)

        let valid = try fixture.validate(good)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.hasPrefix("valid: 1 flag in 1 environment at \(good), signed by ada@example.com (ssh ED25519 SHA256:"))

        try fixture.workspace.write("flags/production/reporting.json", Flags.off)
        let unsigned = try fixture.workspace.commit("unsigned")
        let unsignedResult = try fixture.validate(unsigned)
        #expect(unsignedResult.status == 1)
        #expect(unsignedResult.stdout.contains("error: unsigned-commit: \(unsigned): /gpgsig: the commit is not signed"))
        #expect(unsignedResult.stdout.contains("invalid: 1 error"))

        let json = try fixture.validate(unsigned, ["--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.first?["code"] as? String == "unsigned-commit")
        #expect((object["signer"] as? [String: Any])?["status"] as? String == "unsigned-commit")

        let byStranger = try fixture.workspace.commitSigned("signed by a stranger", with: fixture.stranger)
        let unknown = try fixture.validate(byStranger)
        #expect(unknown.status == 1)
        #expect(unknown.stdout.contains("error: unknown-signing-key: \(byStranger): /gpgsig: signed with SSH key ECDSA SHA256:"))

        let grafted = try fixture.workspace.graftSignature(of: good, ontoTreeOf: unsigned)
        let bad = try fixture.validate(grafted)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("error: bad-signature: \(grafted): /gpgsig: bad SSH signature by ada@example.com (ED25519 SHA256:"))

        let noRev = try HalyardBinary.run(
            ["validate", "--verify-signatures", "--allowed-signers", fixture.allowedSigners],
            in: fixture.workspace.path
        )
        #expect(noRev.status == 64)
        #expect(noRev.stderr.contains("--verify-signatures checks a commit: give --rev REV"))
        let noKeys = try HalyardBinary.run(["validate", "--verify-signatures", "--rev", good], in: fixture.workspace.path)
        #expect(noKeys.status == 64)
        #expect(noKeys.stderr.contains("--verify-signatures needs --allowed-signers or --gpg-keyring"))
        let missingFile = try HalyardBinary.run(
            ["validate", "--verify-signatures", "--rev", good, "--allowed-signers", fixture.keys + "/nope"],
            in: fixture.workspace.path
        )
        #expect(missingFile.status == 2)
        #expect(missingFile.stderr == "error: \(fixture.keys)/nope: cannot read the allowed signers file\n")
    }

    @Test func testValidateReadsTheGPGKeyringFromTheConfigFile() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let bot = try GPGSigningKey(in: fixture.keys, name: "Flag Bot", email: "bot@example.com")
        defer { bot.stopAgent() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let merged = try fixture.workspace.commitSigned("a web merge", with: bot)
        let config = fixture.keys + "/halyard.json"
        try #"{"repo": {"verify": {"gpgKeyring": "\#(bot.armoredKeyringPath)"}}}"#.write(toFile: config, atomically: true, encoding: .utf8)

        let result = try HalyardBinary.run(["validate", "--verify-signatures", "--rev", "HEAD", "--config", config], in: fixture.workspace.path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("signed by Flag Bot <bot@example.com> (gpg \(bot.fingerprint))"))
        _ = merged
    }

    @Test func testHistoryShowsWhoSignedEachEntry() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let signed = try fixture.workspace.commitSigned("add reporting", with: fixture.ada)
        try fixture.workspace.write("flags/production/reporting.json", Flags.off)
        let unsigned = try fixture.workspace.commit("switch reporting off")

        let text = try HalyardBinary.run(
            ["history", "production/reporting", "--allowed-signers", fixture.allowedSigners],
            in: fixture.workspace.path
        )
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(String(unsigned.prefix(7))) == true)
        #expect(lines.first?.contains("[unsigned]  switch reporting off") == true)
        #expect(lines.last?.contains("[signed by ada@example.com]  add reporting") == true)

        let json = try HalyardBinary.run(
            ["history", "production/reporting", "--format", "json", "--allowed-signers", fixture.allowedSigners],
            in: fixture.workspace.path
        )
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let signers = entries.map { $0["signer"] as? [String: Any] }
        #expect(signers.first??["status"] as? String == "unsigned-commit")
        #expect(signers.last??["status"] as? String == "verified")
        #expect(signers.last??["name"] as? String == "ada@example.com")
        #expect((signers.last??["key"] as? String)?.hasPrefix("ED25519 SHA256:") == true)
        #expect(entries.last?["commit"] as? String == signed)

        let plain = try HalyardBinary.run(["history", "production/reporting", "--format", "json"], in: fixture.workspace.path)
        #expect(!plain.stdout.contains("signer"), "no signer field without verification configured")
    }

    @Test func testServeRejectsAnUnsignedTipWithTheReasonInStatusMetricsAndLog() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let serveFixture = try ServeFixture()
        defer { serveFixture.remove() }
        let workspace = serveFixture.workspace
        try workspace.write("flags/production/reporting.json", Flags.disney)
        let good = try workspace.commitSigned("signed", with: fixture.ada)
        let config: [String: Any] = [
            "dataDir": serveFixture.dataDirectory,
            "repo": ["verify": ["allowedSigners": fixture.allowedSigners]],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: serveFixture.configPath))
        let serve = try await serveFixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(good)

        try workspace.write("flags/production/reporting.json", Flags.off)
        let unsigned = try workspace.commit("unsigned")
        try await serve.waitUntilRejected(unsigned)
        let status = try await serve.status()
        #expect(status["commit"] as? String == good, "the last good flags keep serving")
        let rejected = try #require(status["rejected"] as? [String: Any])
        let error = try #require((rejected["errors"] as? [[String: Any]])?.first)
        #expect(error["code"] as? String == "unsigned-commit")
        #expect(error["file"] as? String == unsigned)
        let metrics = String(decoding: try await ServeHTTP.get(serve.baseURL + "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"halyard_commits_rejected_total{reason="unsigned"} 1"#), "\(metrics)")
        #expect(serve.log.contains("rejected commit: unsigned-commit; still serving the last good flags"))

        let stranger = try workspace.commitSigned("signed by a stranger", with: fixture.stranger)
        try await serve.waitUntilRejected(stranger)
        let metricsAfter = String(decoding: try await ServeHTTP.get(serve.baseURL + "/metrics").body, as: UTF8.self)
        #expect(metricsAfter.contains(#"halyard_commits_rejected_total{reason="unknown_key"} 1"#))

        try workspace.write("flags/production/reporting.json", Flags.disney)
        let fixed = try workspace.commitSigned("signed fix", with: fixture.ada)
        try await serve.waitUntilApplied(fixed)
    }

    @Test func testServeRefusesABrokenAllowedSignersFileAtStartUp() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try "ada@example.com ssh-ed25519\n".write(toFile: fixture.allowedSigners, atomically: true, encoding: .utf8)
        let result = try HalyardBinary.run(
            ["serve"],
            in: fixture.workspace.path,
            environment: ["HALYARD_REPO_VERIFY_ALLOWED_SIGNERS": fixture.allowedSigners, "HALYARD_DATA_DIR": fixture.keys + "/data"]
        )
        #expect(result.status == 2)
        #expect(
            result.stderr == "error: configuration key repo.verify: \(fixture.allowedSigners):1: expected 'principals [options] keytype base64-key'\n"
        )
    }
}
