import Foundation
import HalyardGit
import HalyardNotify
import HalyardTesting
import Logging
import Synchronization
import Testing

@testable import HalyardSync

/// Records what the watcher publishes.
final class RecordingListener: ChangeListener {
    private let changes = Mutex<[AppliedChange]>([])
    func flagsApplied(_ change: AppliedChange) { changes.withLock { $0.append(change) } }
    var recorded: [AppliedChange] { changes.withLock { $0 } }
}

/// Sleeps for a fixed window, to show that something did NOT happen (absence can only be observed over a bounded
/// window). Never use it to wait for something that must happen; use ``eventually(_:timeout:interval:retrying:_:)``.
func sleepToProveNothingIsPublished(for window: Duration) async throws {
    try await Task.sleep(for: window)
}

/// A watcher running in the background of a test.
struct RunningWatcher {
    let watcher: FlagWatcher
    let store: FlagStore
    let listener: RecordingListener
    let database: StateDatabase
    let task: Task<Void, any Error>

    static func start(source: WatcherConfiguration.Source, dataDirectory: String) throws -> RunningWatcher {
        let store = FlagStore()
        let listener = RecordingListener()
        let database = try StateDatabase(path: dataDirectory + "/halyard.sqlite")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watcher = FlagWatcher(
            configuration: WatcherConfiguration(
                source: source,
                pollInterval: .milliseconds(50),
                localPollInterval: .milliseconds(50),
                dataDirectory: dataDirectory,
                initialBackoff: .milliseconds(20),
                maxBackoff: .milliseconds(100)
            ),
            store: store,
            database: database,
            listeners: [listener],
            logger: logger
        )
        let task = Task { try await watcher.run() }
        return RunningWatcher(watcher: watcher, store: store, listener: listener, database: database, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    func waitForCommit(_ commit: ObjectID) async throws {
        try await eventually(
            "the watcher serves \(commit.shortHex); serving \(store.current?.commit ?? "nothing")",
            timeout: .seconds(60)
        ) { store.current?.commit == commit.hex }
    }
}

@Suite(.serialized)
struct FlagWatcherTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func testAppliesPublishesOnlyEffectiveChangesAndRecoversFromARejectedCommit() async throws {
        let repo = try TestRepository()
        let data = try temporaryDirectory()
        defer {
            repo.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.write("flags/staging/a.json", FlagText.simple())
        let first = try repo.commit("first")
        let running = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await running.waitForCommit(first)
        #expect(running.listener.recorded.isEmpty, "the first snapshot publishes nothing")

        try repo.write("flags/production/a.json", FlagText.simpleReformatted)
        let reformat = try repo.commit("reformat")
        try await running.waitForCommit(reformat)
        #expect(running.listener.recorded.isEmpty, "a reformat publishes nothing")

        try repo.write("flags/production/a.json", "{\"active\": true}")
        let invalid = try repo.commit("broken")
        try await eventually("the watcher rejects \(invalid.shortHex)", timeout: .seconds(60)) {
            running.store.status.rejected?.commit == invalid.hex
        }
        #expect(running.store.current?.commit == reformat.hex, "the last good flags keep serving")
        let errors = running.store.status.rejected?.errors ?? []
        #expect(errors.count == 1)
        #expect(errors.first?.file == "flags/production/a.json")
        #expect(errors.first?.pointer == "", "the missing key is reported on the flag's root object")
        #expect(errors.first?.message.contains("\"rules\"") == true)

        try repo.write("flags/production/a.json", FlagText.simple(active: false))
        let fixed = try repo.commit("switch off")
        try await running.waitForCommit(fixed)
        #expect(running.store.status.rejected == nil)
        let published = running.listener.recorded
        #expect(published.count == 1)
        #expect(published.first?.previousCommit == reformat.hex, "diffed against what was served, not the parent")
        #expect(published.first?.changes.effectivelyChangedEnvironments == ["production"])
        #expect(running.store.current?.lastChange["production"] == fixed.hex)
        #expect(running.store.current?.lastChange["staging"] == first.hex)
        #expect(try running.database.appliedState()?.commit == fixed.hex)
        await running.stop()
    }

    @Test func testRestartServesThePersistedCommitAndPublishesOnlyWhatChangedWhileDown() async throws {
        let repo = try TestRepository()
        let data = try temporaryDirectory()
        defer {
            repo.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        try repo.write("flags/production/a.json", FlagText.simple())
        let first = try repo.commit("first")
        let before = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await before.waitForCommit(first)
        await before.stop()

        let again = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await again.waitForCommit(first)
        // "Nothing was published" can only be observed over a bounded window: four poll intervals here.
        try await sleepToProveNothingIsPublished(for: .milliseconds(200))
        #expect(again.listener.recorded.isEmpty, "a restart on the same commit publishes nothing")
        #expect(try again.database.pendingMessageCount() == 0)
        await again.stop()

        try repo.write("flags/production/b.json", FlagText.simple())
        let whileDown = try repo.commit("while down")
        let third = try RunningWatcher.start(source: .local(path: repo.path), dataDirectory: data)
        try await third.waitForCommit(whileDown)
        #expect(third.listener.recorded.map { $0.changes.environments["production"]?.added } == [["b"]])
        await third.stop()
    }

    @Test func testRemoteModeFetchesOnRefreshAndSurvivesARemoteThatIsDown() async throws {
        let upstream = try TestRepository()
        let data = try temporaryDirectory()
        let bare = data + "/upstream.git"
        defer {
            upstream.remove()
            try? FileManager.default.removeItem(atPath: data)
        }
        try upstream.write("flags/production/a.json", FlagText.simple())
        let first = try upstream.commit("first")
        try upstream.git("clone", "-q", "--bare", upstream.path, bare)
        try upstream.git("remote", "add", "origin", bare)

        let running = try RunningWatcher.start(source: .remote(url: bare), dataDirectory: data + "/state")
        try await running.waitForCommit(first)

        try upstream.write("flags/production/a.json", FlagText.simple(active: false))
        let second = try upstream.commit("second")
        try upstream.git("push", "-q", "origin", "main")
        running.watcher.requestRefresh()
        try await running.waitForCommit(second)
        #expect(running.listener.recorded.count == 1)

        try FileManager.default.moveItem(atPath: bare, toPath: bare + ".away")
        try await eventually("a fetch error is reported", timeout: .seconds(60)) { running.store.status.lastFetchError != nil }
        #expect(running.store.current?.commit == second.hex, "a dead remote never stops serving")
        try FileManager.default.moveItem(atPath: bare + ".away", toPath: bare)
        running.watcher.requestRefresh()
        try await eventually("the fetch error clears", timeout: .seconds(60)) { running.store.status.lastFetchError == nil }

        try upstream.git("reset", "-q", "--hard", first.hex)
        try upstream.git("push", "-q", "--force", "origin", "main")
        running.watcher.requestRefresh()
        try await running.waitForCommit(first)
        #expect(running.listener.recorded.count == 2, "a force-push is diffed against what was served")
        await running.stop()
    }
}
