import Foundation
import HalyardGit
import HalyardRules
import Logging
import ServiceLifecycle
import Synchronization

/// The watcher service: follows the flag branch, validates each new commit whole, and applies or rejects it.
///
/// Each cycle is fetch → tip moved? → incremental snapshot → validate → reject, or persist + swap + publish. A failing
/// remote is retried with exponential backoff and jitter while the last good snapshot keeps serving. Triggers
/// (`requestRefresh()`, the poll timer) that arrive during a cycle coalesce into one more cycle.
///
/// ```swift
/// let watcher = FlagWatcher(configuration: .init(), store: store, database: database, listeners: [hub], logger: logger)
/// let group = ServiceGroup(services: [watcher, server], logger: logger)
/// try await group.run()
/// ```
public final class FlagWatcher: Service, Sendable {
    private let configuration: WatcherConfiguration
    private let store: FlagStore
    private let database: any AppliedStateStore
    private let listeners: [any ChangeListener]
    private let logger: Logger
    private let worker: GitWorker
    private let catchUp: CatchUpCache
    /// The persisted applied commit when git no longer has it: the next apply publishes every flag (DESIGN §13).
    private let lostCommit = Mutex<String?>(nil)
    private let signal: RefreshSignal
    private let metrics = WatcherMetrics()
    /// With a store shared by several replicas: publication, apart from serving (DESIGN §10); `nil` with SQLite.
    private let publication: PublicationLoop?
    private let sharedStore: (any SharedPublicationStore)?

    /// Creates a watcher that serves through `store` and persists each applied commit through `database` first.
    ///
    /// - Parameters:
    ///   - configuration: Which repository and branch to follow, and how often.
    ///   - store: Where the applied snapshot is served from.
    ///   - database: Where each applied commit is recorded, with its outbox, before it is served.
    ///   - listeners: Told about every effective change once it is served (the SSE hub).
    ///   - logger: Where fetches, applies and rejections are logged.
    public init(
        configuration: WatcherConfiguration,
        store: FlagStore,
        database: any AppliedStateStore,
        listeners: [any ChangeListener],
        logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.database = database
        self.listeners = listeners
        self.logger = logger
        let worker = GitWorker(configuration: configuration)
        let signal = RefreshSignal()
        self.worker = worker
        self.signal = signal
        self.catchUp = CatchUpCache(reader: HistoricChangeReader(configuration: configuration))
        if let shared = database as? any SharedPublicationStore {
            self.sharedStore = shared
            self.publication = PublicationLoop(
                store: shared,
                worker: worker,
                lockRetry: configuration.publisherLockRetry,
                backoff: Backoff(initial: .milliseconds(200), maximum: configuration.maxPublicationBackoff, jitter: .equal),
                logger: logger,
                requestFetch: { signal.signal() }
            )
        } else {
            self.sharedStore = nil
            self.publication = nil
        }
    }

    /// With a shared store (PostgreSQL): its health as this replica sees it, and whether this replica publishes;
    /// `nil` with SQLite.
    public var sharedStateHealth: SharedStateHealth? {
        self.publication?.health
    }

    /// Fetches now here and, with a shared store, on every other replica too (a push hook or `/v1/refresh`).
    public func requestRefreshEverywhere() {
        self.signal.signal()
        if let sharedStore {
            Task { await sharedStore.announceRefresh() }
        }
    }

    /// Fetches (or checks the local branch) now instead of at the next poll.
    public func requestRefresh() {
        signal.signal()
    }

    /// Serves the persisted commit at once, then fetches, validates and applies until the task is cancelled or a
    /// graceful shutdown is requested.
    public func run() async throws {
        await restorePersistedState()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let publication = self.publication, let sharedStore = self.sharedStore {
                    group.addTask { await publication.run() }
                    group.addTask { await sharedStore.followSharedEvents { [signal = self.signal] in signal.signal() } }
                }
                var failures = 0
                while !Task.isCancelled {
                    let succeeded = await self.cycle()
                    failures = succeeded ? 0 : failures + 1
                    await self.signal.wait(timeout: self.delay(afterFailures: failures))
                }
                group.cancelAll()
            }
        }
    }

    /// The change of one environment from `commit` to what is served now, read from git; nil when the commit is
    /// unknown to the repository.
    ///
    /// Cheap for any number of callers (DESIGN §13): results are cached by commit, one build serves concurrent
    /// callers, and builds run off the git worker, so they never delay a fetch or an apply.
    public func changes(since commit: String, environment: String) async -> EnvironmentChangeSet? {
        guard let served = store.current else { return nil }
        if commit == served.commit { return EnvironmentChangeSet() }
        guard let changes = await catchUp.changes(since: commit, to: served.snapshot) else { return nil }
        return changes.environments[environment] ?? EnvironmentChangeSet()
    }

    // MARK: - Cycle

    private func delay(afterFailures failures: Int) -> Duration {
        let interval: Duration
        switch configuration.source {
        case .local: interval = configuration.localPollInterval
        case .remote: interval = configuration.pollInterval
        }
        guard failures > 0 else { return interval }
        // Equal jitter: never less than half the backoff, so a dead remote is not hammered in step with others.
        return Backoff(initial: configuration.initialBackoff, maximum: configuration.maxBackoff, jitter: .equal).delay(attempt: failures)
    }

    /// Serves the commit applied before a restart at once, before any fetch.
    private func restorePersistedState() async {
        let persisted: AppliedState?
        do {
            persisted = try await database.appliedState()
        } catch {
            logger.error("cannot read the persisted state", metadata: ["error": "\(error)"])
            return
        }
        guard let persisted else { return }
        guard let snapshot = await worker.load(commitHex: persisted.commit) else {
            lostCommit.withLock { $0 = persisted.commit }
            logger.warning(
                "the persisted commit cannot be loaded; the next applied commit is published as a change of every flag",
                metadata: ["commit": "\(persisted.commit)"]
            )
            return
        }
        store.apply(ServedState(snapshot: snapshot, appliedAt: persisted.appliedAt, lastChange: persisted.lastChange))
        metrics.recordServed(snapshot, at: persisted.appliedAt)
        logger.info("serving the persisted commit", metadata: ["commit": "\(persisted.commit)", "flags": "\(snapshot.flagCount)"])
    }

    /// One fetch-validate-apply pass. Returns false when the fetch failed.
    private func cycle() async -> Bool {
        let fetchedAt = Date()
        let started = ContinuousClock.now
        let tip: ObjectID?
        do {
            try await worker.fetch()
            tip = try await worker.tip()
        } catch {
            metrics.fetch(result: "error", duration: ContinuousClock.now - started)
            store.updateStatus {
                $0.lastFetchAt = Date()
                $0.lastFetchError = error.description
            }
            logger.warning("fetch failed; still serving the last good flags", metadata: ["error": "\(error.description)"])
            return false
        }
        metrics.fetch(result: "success", duration: ContinuousClock.now - started)
        guard let tip else {
            let message = "the branch \((try? await worker.branch()).flatMap { $0 } ?? "(HEAD)") has no commits"
            store.updateStatus {
                $0.lastFetchAt = Date()
                $0.lastFetchError = message
            }
            return false
        }
        store.updateStatus {
            $0.lastFetchAt = Date()
            $0.lastFetchError = nil
        }
        let served = store.current
        if tip.hex == served?.commit {
            store.updateStatus { $0.rejected = nil }
            offerForPublication(fetchedAt: fetchedAt, tip: tip)
            return true
        }
        if tip.hex == store.status.rejected?.commit { return true }
        await apply(tip: tip, served: served, fetchedAt: fetchedAt)
        offerForPublication(fetchedAt: fetchedAt, tip: tip)
        return true
    }

    /// Offers the served commit for publication when it is the tip just fetched (a shared store only).
    private func offerForPublication(fetchedAt: Date, tip: ObjectID) {
        guard let publication, let served = store.current, served.commit == tip.hex else { return }
        publication.offer(PublicationLoop.Candidate(snapshot: served.snapshot, commit: served.commit, fetchedAt: fetchedAt))
    }

    /// Applies the branch tip, one line per step of the data path (DESIGN §9): load and validate the snapshot (or
    /// reject the commit), diff it against the served one, persist the commit with its outbox, swap the store, count
    /// it, then tell the listeners.
    private func apply(tip: ObjectID, served: ServedState?, fetchedAt: Date) async {
        guard let snapshot = await load(tip, after: served) else { return }
        let appliedAt = Date()
        let diff = diff(snapshot, commit: tip.hex, against: served)
        let lastChange = lastChange(after: diff, in: snapshot, served: served)
        guard await persist(diff, appliedAt: appliedAt, lastChange: lastChange, fetchedAt: fetchedAt) else { return }
        swap(to: ServedState(snapshot: snapshot, appliedAt: appliedAt, lastChange: lastChange))
        recordApplied(diff, snapshot: snapshot, at: appliedAt)
        publish(diff, appliedAt: appliedAt)
    }

    /// The tip's snapshot, loaded incrementally from the served one; nil when it cannot be applied. An invalid flag set
    /// is rejected (and stays visible in the status); a git or file-system failure is logged and retried next cycle.
    private func load(_ tip: ObjectID, after served: ServedState?) async -> Snapshot? {
        do {
            return try await worker.load(commit: tip, after: served?.snapshot)
        } catch {
            if error.isInvalidFlagSet {
                reject(tip, errors: error.errors)
            } else {
                store.updateStatus { $0.lastFetchError = error.description }
                logger.error("cannot load the commit", metadata: ["commit": "\(tip.hex)", "error": "\(error.description)"])
            }
            return nil
        }
    }

    /// What applying `snapshot` changes compared with what is served.
    ///
    /// Without a served snapshot, the commit applied before a restart may be gone from git: then every flag changed, and
    /// that is published. A fresh service's first commit is applied without publishing anything.
    private func diff(_ snapshot: Snapshot, commit: String, against served: ServedState?) -> AppliedDiff {
        let lost = served == nil ? lostCommit.withLock({ $0 }) : nil
        return AppliedDiff(
            commit: commit,
            previousCommit: served?.commit ?? lost,
            changes: lost == nil ? ChangeSet.between(served?.snapshot, snapshot) : ChangeSet.everyFlagChanged(in: snapshot),
            publishes: served != nil || lost != nil
        )
    }

    /// Each environment's last effective change after applying `diff`: the new commit for every environment it changed
    /// (for every environment on the first apply), nothing for environments that are gone.
    private func lastChange(after diff: AppliedDiff, in snapshot: Snapshot, served: ServedState?) -> [String: String] {
        var lastChange = served?.lastChange ?? [:]
        for name in snapshot.environments.keys where served == nil || diff.changes.environments[name]?.isEffective == true {
            lastChange[name] = diff.commit
        }
        for name in lastChange.keys where snapshot.environments[name] == nil {
            lastChange[name] = nil
        }
        return lastChange
    }

    /// Records the commit together with the outbox of its changes, in one transaction, before anything is served.
    /// Returns false (and leaves the served commit as it is) when the store cannot be written.
    private func persist(_ diff: AppliedDiff, appliedAt: Date, lastChange: [String: String], fetchedAt: Date) async -> Bool {
        // A shared store is written by the publisher, apart from serving (``PublicationLoop``).
        guard publication == nil else { return true }
        do {
            try await database.recordApplied(
                AppliedState(commit: diff.commit, appliedAt: appliedAt, lastChange: lastChange),
                changes: diff.outbox,
                fetchedAt: fetchedAt
            )
            return true
        } catch {
            store.updateStatus { $0.lastFetchError = "cannot persist the applied commit: \(error)" }
            logger.error("cannot persist the applied commit; not applying it", metadata: ["commit": "\(diff.commit)", "error": "\(error)"])
            return false
        }
    }

    /// Serves the new state; a commit that applies ends any rejection and any lost persisted commit.
    private func swap(to state: ServedState) {
        store.apply(state)
        lostCommit.withLock { $0 = nil }
        store.updateStatus { $0.rejected = nil }
    }

    /// Counts and logs the applied commit.
    private func recordApplied(_ diff: AppliedDiff, snapshot: Snapshot, at appliedAt: Date) {
        metrics.applied(snapshot, at: appliedAt)
        logger.info(
            "applied commit",
            metadata: [
                "commit": "\(diff.commit)",
                "previous": "\(diff.previousCommit ?? "none")",
                "changed": "\(diff.changes.effectivelyChangedEnvironments.joined(separator: ","))",
            ]
        )
    }

    /// Tells the listeners (the SSE hub) about an effective change; the outbox was already written by ``persist``.
    private func publish(_ diff: AppliedDiff, appliedAt: Date) {
        guard diff.publishes, diff.changes.isEffective else { return }
        let change = AppliedChange(commit: diff.commit, previousCommit: diff.previousCommit, changes: diff.changes, appliedAt: appliedAt)
        for listener in listeners {
            listener.flagsApplied(change)
        }
    }

    private func reject(_ commit: ObjectID, errors: [Diagnostic]) {
        store.updateStatus { $0.rejected = Rejection(commit: commit.hex, at: Date(), errors: errors) }
        metrics.rejected()
        logger.error(
            "rejected commit: invalid flags; still serving the last good flags",
            metadata: [
                "commit": "\(commit.hex)",
                "errors": "\(errors.count)",
                "first": "\(errors.first.map(\.description) ?? "")",
            ]
        )
    }
}

/// What applying one commit changes, worked out before anything is written.
private struct AppliedDiff {
    /// The commit being applied.
    let commit: String
    /// The commit served before it, or the persisted one that git no longer has; nil on a fresh service.
    let previousCommit: String?
    /// The change sets of every environment with any change.
    let changes: ChangeSet
    /// Whether the change is published: not for the first commit a fresh service applies.
    let publishes: Bool

    /// The messages to enqueue with the commit: the effective changes, when the change is published.
    var outbox: [EnvironmentChange] {
        publishes ? changes.environmentChanges(commit: commit, previousCommit: previousCommit) : []
    }
}
