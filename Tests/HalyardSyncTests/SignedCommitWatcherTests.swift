import Foundation
import HalyardGit
import HalyardNotify
import HalyardRules
import HalyardTesting
import Logging
import Testing

@testable import HalyardSync

/// The watcher with `repo.verify.*`: only commits signed by a listed key are applied; the others are rejected with
/// the reason while the last good flags keep serving.
@Suite(.serialized)
struct SignedCommitWatcherTests {
    func start(_ repository: String, data: String, signatures: SignaturePolicy) throws -> RunningWatcher {
        let store = FlagStore()
        let listener = RecordingListener()
        let database = try StateDatabase(path: data + "/halyard.sqlite")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watcher = FlagWatcher(
            configuration: WatcherConfiguration(
                source: .local(path: repository),
                pollInterval: .milliseconds(50),
                localPollInterval: .milliseconds(50),
                dataDirectory: data,
                initialBackoff: .milliseconds(20),
                maxBackoff: .milliseconds(100),
                signatures: signatures
            ),
            store: store,
            database: database,
            listeners: [listener],
            logger: logger
        )
        let task = Task { try await watcher.run() }
        return RunningWatcher(watcher: watcher, store: store, listener: listener, database: database, task: task)
    }

    func waitForRejection(of commit: ObjectID, _ running: RunningWatcher) async throws -> Diagnostic {
        try await eventually("the watcher rejects \(commit.shortHex)", timeout: .seconds(60)) {
            running.store.status.rejected?.commit == commit.hex
        }
        return try #require(running.store.status.rejected?.errors.first)
    }

    @Test func testOnlyCommitsSignedByAListedKeyAreApplied() async throws {
        let fixture = try SigningFixture()
        let data = try TemporaryDirectory.make(prefix: "halyard-data")
        defer {
            fixture.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        let ada = try fixture.sshKey(.ed25519)
        let stranger = try fixture.sshKey(.rsa, comment: "mallory@example.com")
        let policy = SignaturePolicy(allowedSigners: try fixture.allowedSigners([ada.allowedSignersLine(principal: "ada@example.com")]))
        let good = try fixture.commitFlag(signedWith: ada)
        let running = try start(fixture.repo.path, data: data, signatures: policy)
        defer { Task { await running.stop() } }
        try await running.waitForCommit(good)

        try fixture.repo.write("flags/production/a.json", FlagText.simple(customer: "Unsigned"))
        let unsigned = try fixture.repo.commit("unsigned change")
        let unsignedError = try await waitForRejection(of: unsigned, running)
        #expect(unsignedError.code == "unsigned-commit")
        #expect(unsignedError.file == unsigned.hex)
        #expect(running.store.current?.commit == good.hex, "the last good flags keep serving")

        let unknown = try fixture.commitFlag(signedWith: stranger, customer: "Mallory")
        let unknownError = try await waitForRejection(of: unknown, running)
        #expect(unknownError.code == "unknown-signing-key")
        #expect(unknownError.message.contains("RSA SHA256:"))

        let grafted = try fixture.objectID(fixture.repo.repository.graftSignature(of: good.hex, ontoTreeOf: unknown.hex))
        let graftedError = try await waitForRejection(of: grafted, running)
        #expect(graftedError.code == "bad-signature")
        #expect(running.store.current?.commit == good.hex)
        #expect(running.store.current?.snapshot.environments["production"]?.flags["a"] != nil)
        #expect(running.listener.recorded.isEmpty, "nothing rejected was published")

        let fixed = try fixture.commitFlag(signedWith: ada, customer: "Pixar")
        try await running.waitForCommit(fixed)
        #expect(running.store.status.rejected == nil)
        #expect(running.listener.recorded.map(\.previousCommit) == [good.hex], "diffed against the last signed commit served")
    }

    @Test func testWithoutAPolicyUnsignedCommitsApplyAsBefore() async throws {
        let fixture = try SigningFixture()
        let data = try TemporaryDirectory.make(prefix: "halyard-data")
        defer {
            fixture.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        try fixture.repo.write("flags/production/a.json", FlagText.simple())
        let unsigned = try fixture.repo.commit("unsigned")
        let running = try start(fixture.repo.path, data: data, signatures: SignaturePolicy())
        defer { Task { await running.stop() } }
        try await running.waitForCommit(unsigned)
    }
}
