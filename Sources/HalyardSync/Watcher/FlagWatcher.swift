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
    let configuration: WatcherConfiguration
    let store: FlagStore
    private let database: any AppliedStateStore
    private let listeners: [any ChangeListener]
    let logger: Logger
    let worker: GitWorker
    private let catchUp: CatchUpCache
    /// The persisted applied commit when git no longer has it: the next apply publishes every flag (DESIGN §13).
    private let lostCommit = Mutex<String?>(nil)
    private let signal: RefreshSignal
    private let metrics = WatcherMetrics()
    /// With a store shared by several replicas: publication, apart from serving (DESIGN §10); `nil` with SQLite.
    private let publication: PublicationLoop?
    private let sharedStore: (any SharedPublicationStore)?
    /// Where break-glass overrides are kept: the database, when it keeps them (DESIGN §14).
    let overrideStore: (any OverrideStore)?
    /// The committed snapshot under what is served, the overrides served on top of it, and the served commit's fetch.
    let overrideState = Mutex(OverrideServing())
    /// Applies and override re-applies, one at a time.
    let gate = SerialGate()
    /// Wakes the expiry task when the overrides in effect changed.
    let expirySignal = RefreshSignal()
    /// Reloads of the overrides, one at a time.
    let reloadGate = SerialGate()
    /// Wakes the task that reloads the overrides from the store.
    let reloadSignal = RefreshSignal()
    /// Whether the state store is shared by replicas (PostgreSQL), and so may be down while this replica serves.
    var isSharedStore: Bool { publication != nil }

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
        self.overrideStore = database as? any OverrideStore
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
                if self.overrideStore != nil {
                    group.addTask { await self.runExpiry() }
                    group.addTask { await self.runOverrideReload() }
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
            if publication != nil {
                // A shared store that cannot be reached yet (DESIGN §10): serving from git is the expected behaviour,
                // and the store says why in its own warning and in /v1/status.
                logger.warning("the shared state cannot be read yet; serving from git", metadata: ["error": "\(error)"])
            } else {
                logger.error("cannot read the persisted state", metadata: ["error": "\(error)"])
            }
            return
        }
        guard let persisted else {
            await reloadOverrides()
            return
        }
        guard let base = await worker.load(commitHex: persisted.commit) else {
            lostCommit.withLock { $0 = persisted.commit }
            logger.warning(
                "the persisted commit cannot be loaded; the next applied commit is published as a change of every flag",
                metadata: ["commit": "\(persisted.commit)"]
            )
            return
        }
        let overrides = await persistedOverrides(persisted.overrides)
        let snapshot = OverrideOverlay.apply(base, overrides)
        store.apply(ServedState(snapshot: snapshot, appliedAt: persisted.appliedAt, lastChange: persisted.lastChange))
        overrideState.withLock {
            $0.base = base
            $0.inEffect = overrides
        }
        recordOverrideGauges(overrides, in: snapshot)
        metrics.recordServed(snapshot, at: persisted.appliedAt)
        logger.info(
            "serving the persisted commit",
            metadata: [
                "commit": "\(persisted.commit)", "flags": "\(snapshot.flagCount)", "overrides": "\(overrides.map(\.id).joined(separator: ","))",
            ]
        )
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
            // Overrides work without the remote: those created, ended or expired meanwhile are served all the same.
            await gate.run { await self.reapplyOverrides(fetchedAt: nil) }
            reloadSignal.signal()
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
        await gate.run {
            let served = self.store.current
            if tip.hex == served?.commit {
                self.store.updateStatus { $0.rejected = nil }
                // Overrides created or ended elsewhere (another replica) are reloaded at every poll, apart from this loop.
                self.reloadSignal.signal()
                await self.reapplyOverrides(fetchedAt: fetchedAt)
                self.offerForPublication(fetchedAt: fetchedAt, tip: tip)
                return
            }
            if tip.hex == self.store.status.rejected?.commit { return }
            await self.apply(tip: tip, served: served, fetchedAt: fetchedAt)
            self.offerForPublication(fetchedAt: fetchedAt, tip: tip)
        }
        return true
    }

    /// Offers the served commit for publication when it is the tip just fetched (a shared store only).
    func offerForPublication(fetchedAt: Date, tip: ObjectID) {
        guard let publication, let served = store.current, served.commit == tip.hex else { return }
        overrideState.withLock { $0.fetchedAt = fetchedAt }
        let overrides = overrideState.withLock { $0.inEffect.map(\.id).sorted() }
        publication.offer(
            PublicationLoop.Candidate(snapshot: served.snapshot, commit: served.commit, fetchedAt: fetchedAt, overrides: overrides)
        )
    }

    /// Applies the branch tip, one line per step of the data path (DESIGN §9): load and validate the snapshot (or
    /// reject the commit), diff it against the served one, persist the commit with its outbox, swap the store, count
    /// it, then tell the listeners.
    private func apply(tip: ObjectID, served: ServedState?, fetchedAt: Date) async {
        guard let base = await load(tip, after: overrideState.withLock({ $0.base })) else { return }
        await serve(base: base, served: served, fetchedAt: fetchedAt)
    }

    /// Serves the committed snapshot `base` with the overrides in effect on top, when that differs from what is served:
    /// the overrides that `base` ends are ended first, then the change from what is served is persisted with its outbox,
    /// swapped in and told to the listeners. Both a new commit and a change of the overrides come through here.
    func serve(base: Snapshot, served: ServedState?, fetchedAt: Date) async {
        let commit = base.commit ?? ""
        let overrides = await overridesInEffect(on: base, newCommit: served?.commit != commit)
        let ids = overrides.map(\.id).sorted()
        if let served, served.commit == commit, ids == overrideState.withLock({ $0.inEffect.map(\.id).sorted() }) { return }
        let snapshot = OverrideOverlay.apply(base, overrides)
        let appliedAt = Date()
        let diff = diff(snapshot, commit: commit, against: served)
        let lastChange = lastChange(after: diff, in: snapshot, served: served)
        guard await persist(diff, appliedAt: appliedAt, lastChange: lastChange, overrides: ids, fetchedAt: fetchedAt) else { return }
        swap(to: ServedState(snapshot: snapshot, appliedAt: appliedAt, lastChange: lastChange))
        overrideState.withLock {
            $0.base = base
            $0.inEffect = overrides
        }
        expirySignal.signal()
        recordOverrideGauges(overrides, in: snapshot)
        recordApplied(diff, snapshot: snapshot, at: appliedAt, overrides: ids)
        publish(diff, appliedAt: appliedAt, overrides: overrides)
    }

    /// The tip's snapshot, loaded incrementally from the served one's committed flags; nil when it cannot be applied.
    /// An invalid flag set is rejected (and stays visible in the status); a git or file-system failure is logged and
    /// retried next cycle.
    private func load(_ tip: ObjectID, after base: Snapshot?) async -> Snapshot? {
        do {
            return try await worker.load(commit: tip, after: base)
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
    private func persist(
        _ diff: AppliedDiff,
        appliedAt: Date,
        lastChange: [String: String],
        overrides: [String],
        fetchedAt: Date
    ) async -> Bool {
        // A shared store is written by the publisher, apart from serving (``PublicationLoop``).
        guard publication == nil else { return true }
        do {
            try await database.recordApplied(
                AppliedState(commit: diff.commit, appliedAt: appliedAt, lastChange: lastChange, overrides: overrides),
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
    private func recordApplied(_ diff: AppliedDiff, snapshot: Snapshot, at appliedAt: Date, overrides: [String]) {
        metrics.applied(snapshot, at: appliedAt)
        logger.info(
            diff.commit == diff.previousCommit ? "applied overrides" : "applied commit",
            metadata: [
                "commit": "\(diff.commit)",
                "previous": "\(diff.previousCommit ?? "none")",
                "changed": "\(diff.changes.effectivelyChangedEnvironments.joined(separator: ","))",
                "overrides": "\(overrides.joined(separator: ","))",
            ]
        )
    }

    /// Tells the listeners (the SSE hub) about an effective change; the outbox was already written by ``persist``.
    private func publish(_ diff: AppliedDiff, appliedAt: Date, overrides: [FlagOverride]) {
        guard diff.publishes, diff.changes.isEffective else { return }
        let change = AppliedChange(
            commit: diff.commit,
            previousCommit: diff.previousCommit,
            changes: diff.changes,
            appliedAt: appliedAt,
            overrideMarks: StreamEventID.marks(of: overrides)
        )
        for listener in listeners {
            listener.flagsApplied(change)
        }
    }

    private func reject(_ commit: ObjectID, errors: [Diagnostic]) {
        store.updateStatus { $0.rejected = Rejection(commit: commit.hex, at: Date(), errors: errors) }
        let signature = errors.lazy.compactMap { error in SignatureFailure.Reason.allCases.first { $0.rawValue == error.code } }.first
        metrics.rejected(reason: signature?.metricLabel ?? "invalid")
        logger.error(
            "rejected commit: \(signature?.rawValue ?? "invalid flags"); still serving the last good flags",
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
