import Foundation
import HalyardGit
import HalyardNotify
import Testing

@testable import HalyardSync

@Suite(.serialized)
struct CatchUpAndRestartTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// DESIGN §13: when the persisted applied commit is gone from git (force-push plus gc), the next applied commit is
    /// published as a change of every flag of every environment, with the lost commit as the previous one.
    @Test func testARestartWithoutTheAppliedCommitPublishesEveryFlag() async throws {
        let repo = try TestRepository()
        let data = try temporaryDirectory()
        defer {
            repo.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.write("flags/production/b.json", FlagText.simple(customer: "Pixar"))
        try repo.write("flags/staging/c.json", FlagText.simple())
        let lost = try repo.commit("first")
        let before = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await before.waitForCommit(lost)
        _ = try before.database.createSubscription(
            url: "http://receiver.example/hook",
            environments: ["production", "staging"],
            policy: .any
        )
        await before.stop()

        // Rewrite history so that the applied commit is gone: a new root commit, the old branch deleted, then gc.
        try repo.git("checkout", "-q", "--orphan", "rewritten")
        try repo.write("flags/production/a.json", FlagText.simple(active: false))
        let rewritten = try repo.commit("rewritten")
        try repo.git("branch", "-D", "main")
        try repo.git("branch", "-m", "main")
        try repo.git("reflog", "expire", "--expire=now", "--all")
        try repo.git("gc", "-q", "--prune=now")
        #expect(throws: (any Error).self, "the old commit is gone") { try repo.git("cat-file", "-e", lost.hex) }

        let after = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await after.waitForCommit(rewritten)
        let published = after.listener.recorded
        #expect(published.count == 1)
        #expect(published.first?.previousCommit == lost.hex)
        #expect(published.first?.changes.environments["production"]?.changed == ["a", "b"])
        #expect(published.first?.changes.environments["staging"]?.changed == ["c"])

        let pending = try after.database.pendingMessages().sorted { $0.environment < $1.environment }
        #expect(pending.map(\.environment) == ["production", "staging"])
        #expect(pending.first?.change.changed == ["a", "b"])
        #expect(pending.last?.change.changed == ["c"])
        #expect(pending.allSatisfy { $0.change.previousCommit == lost.hex && $0.change.commit == rewritten.hex })
        #expect(after.store.current?.lastChange == ["production": rewritten.hex, "staging": rewritten.hex])
        await after.stop()
    }

    /// Concurrent catch-ups for one commit share one build; the cache keeps within its bounds.
    @Test func testCatchUpBuildsOncePerCommitAndStaysBounded() async throws {
        let repo = try TestRepository()
        let data = try temporaryDirectory()
        defer {
            repo.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        var commits: [ObjectID] = []
        for index in 0..<4 {
            try repo.write("flags/production/f\(index).json", FlagText.simple())
            commits.append(try repo.commit("add f\(index)"))
        }
        let configuration = WatcherConfiguration(source: .local(path: repo.path), dataDirectory: data)
        let served = try SnapshotLoader().load(commit: commits[3], from: repo.open())
        let cache = CatchUpCache(
            reader: HistoricChangeReader(configuration: configuration),
            limits: .init(entries: 2, flagIDs: 100, pendingBuilds: 8)
        )

        let oldest = commits[0].hex
        let results = await withTaskGroup(of: ChangeSet?.self) { group in
            for _ in 0..<50 {
                group.addTask { await cache.changes(since: oldest, to: served) }
            }
            return await group.reduce(into: [ChangeSet?]()) { $0.append($1) }
        }
        #expect(cache.buildCount == 1, "fifty concurrent requests for one commit make one build")
        #expect(results.allSatisfy { $0?.environments["production"]?.added == ["f1", "f2", "f3"] })
        _ = await cache.changes(since: commits[0].hex, to: served)
        #expect(cache.buildCount == 1, "a later request is a cache hit")

        #expect(await cache.changes(since: commits[1].hex, to: served)?.environments["production"]?.added == ["f2", "f3"])
        #expect(await cache.changes(since: commits[2].hex, to: served)?.environments["production"]?.added == ["f3"])
        #expect(cache.count == 2, "the least recently used result was evicted")
        #expect(await cache.changes(since: "0123456789abcdef0123456789abcdef01234567", to: served) == nil)
        #expect(await cache.changes(since: "not-a-commit", to: served) == nil)
    }
}
