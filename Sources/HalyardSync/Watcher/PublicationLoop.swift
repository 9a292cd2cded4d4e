import Foundation
import HalyardRules
import Logging
import Synchronization

/// Publication to a shared store (DESIGN §10), apart from serving: the watcher offers each commit it has just fetched
/// as the branch tip and serves; whenever this replica holds the publisher lock, the loop diffs that commit against the
/// shared published commit and publishes the messages with the new published commit in one compare-and-set
/// transaction. Failures are retried with ``Backoff`` until they succeed; serving never waits for them.
///
/// A published commit that this replica did not write itself (another replica published it, or this one just took the
/// lock over) is only ever replaced by a commit fetched after it was seen, so a replica that is behind never publishes
/// an older commit over a newer one.
final class PublicationLoop: Sendable {
    /// A commit the watcher fetched as the branch tip and serves.
    struct Candidate: Sendable {
        var snapshot: Snapshot
        var commit: String
        var fetchedAt: Date
        /// The ids of the overrides served on top of the commit, sorted: what is published is both (DESIGN §14).
        var overrides: [String] = []

        /// Whether it is what `state` published.
        func matches(_ state: AppliedState?) -> Bool {
            state?.commit == commit && state?.overrides == overrides
        }
    }

    private struct State {
        var candidate: Candidate?
        /// The published commit this replica validated (wrote, or saw before fetching), and when it saw it.
        var validated: (commit: String?, seenAt: Date)?
        /// The snapshot of the commit this replica published last, so the next diff needs no load from git.
        var lastPublished: Snapshot?
        /// The overrides on top of ``lastPublished``.
        var lastPublishedOverrides: [String] = []
        var publishedCommit: String?
        var publishedOverrides: [String] = []
        var pending = false
        var publisher = false
        /// The first commit this replica served, kept until it sees something published: when nothing ever was, the
        /// first publication carries the change from it (clients fetched it), not "no change".
        var firstServed: Candidate?
        var sawPublication = false
    }

    private enum Outcome {
        /// Nothing to do until the next offer or lock retry.
        case idle
        /// Look again at once (published, or another replica published first).
        case again
        /// The published commit is newer than the candidate's fetch: fetch first.
        case needsFetch
        /// The store failed.
        case failed
    }

    private let store: any SharedPublicationStore
    private let worker: GitWorker
    private let overrideStore: (any OverrideStore)?
    private let requestFetch: @Sendable () -> Void
    private let logger: Logger
    private let lockRetry: Duration
    private let backoff: Backoff
    private let signal = RefreshSignal()
    private let state = Mutex(State())

    init(
        store: any SharedPublicationStore,
        worker: GitWorker,
        lockRetry: Duration,
        backoff: Backoff,
        logger: Logger,
        requestFetch: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.worker = worker
        self.overrideStore = store as? any OverrideStore
        self.lockRetry = lockRetry
        self.backoff = backoff
        self.logger = logger
        self.requestFetch = requestFetch
    }

    /// Offers the commit the watcher has just fetched as the tip and serves.
    func offer(_ candidate: Candidate) {
        let changed = self.state.withLock { state -> Bool in
            let changed = state.candidate?.commit != candidate.commit || state.candidate?.overrides != candidate.overrides || state.pending
            state.candidate = candidate
            if state.firstServed == nil, !state.sawPublication { state.firstServed = candidate }
            if state.publisher, state.publishedCommit != candidate.commit || state.publishedOverrides != candidate.overrides {
                state.pending = true
            }
            return changed
        }
        if changed { self.signal.signal() }
    }

    /// Whether the first commit this replica served is still kept for a first publication.
    var keepsFirstServed: Bool { self.state.withLock { $0.firstServed != nil } }

    /// The store's health with this replica's publication state.
    var health: SharedStateHealth {
        var health = self.store.health
        self.state.withLock { state in
            if let published = state.publishedCommit { health.publishedCommit = published }
            health.publicationPending = state.pending && health.publisher
        }
        return health
    }

    /// Publishes until the task is cancelled.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            switch await self.attempt() {
            case .again:
                failures = 0
                continue
            case .idle:
                failures = 0
                await self.signal.wait(timeout: self.lockRetry)
            case .needsFetch:
                failures = 0
                self.requestFetch()
                await self.signal.wait(timeout: self.lockRetry)
            case .failed:
                failures += 1
                await self.signal.wait(timeout: self.backoff.delay(attempt: failures))
            }
        }
    }

    private func attempt() async -> Outcome {
        let isPublisher: Bool
        do {
            isPublisher = try await self.store.acquirePublisherLock()
        } catch {
            self.state.withLock {
                $0.publisher = false
                $0.validated = nil
            }
            self.logger.debug("cannot take or check the publisher lock", metadata: ["error": "\(error)"])
            return .failed
        }
        let candidate = self.state.withLock { state -> Candidate? in
            if !isPublisher {
                // Whatever is published when this replica takes the lock over must be seen first.
                state.validated = nil
                state.pending = false
            }
            state.publisher = isPublisher
            return state.candidate
        }
        guard isPublisher, let candidate else {
            self.logger.trace("not publishing", metadata: ["publisher": "\(isPublisher)", "candidate": "\(candidate?.commit ?? "none")"])
            await self.forgetFirstServedOncePublished()
            return .idle
        }
        do {
            return try await self.publish(candidate)
        } catch {
            self.state.withLock { $0.pending = true }
            self.logger.warning(
                "cannot publish the served commit; retrying",
                metadata: ["commit": "\(candidate.commit)", "error": "\(error)"]
            )
            return .failed
        }
    }

    /// A replica that does not publish still keeps the first commit it served until something is published (it may
    /// take the lock over before anything is); it looks once per lock retry, and lets the snapshot go as soon as it
    /// sees a publication, so that it does not hold a second snapshot for good.
    private func forgetFirstServedOncePublished() async {
        guard self.state.withLock({ $0.firstServed != nil }) else { return }
        guard (try? await self.store.appliedState()) != nil else { return }
        self.state.withLock { state in
            state.sawPublication = true
            state.firstServed = nil
        }
    }

    private func publish(_ candidate: Candidate) async throws -> Outcome {
        let published = try await self.store.appliedState()
        let now = Date()
        let verdict = self.state.withLock { state -> Outcome? in
            state.publishedCommit = published?.commit
            state.publishedOverrides = published?.overrides ?? []
            if published != nil {
                state.sawPublication = true
                state.firstServed = nil
            }
            if candidate.matches(published) {
                state.validated = (candidate.commit, candidate.fetchedAt)
                state.pending = false
                return .idle
            }
            state.pending = true
            // The same commit with other overrides: nothing older can be published over anything newer.
            if published?.commit == candidate.commit { return nil }
            guard let validated = state.validated, validated.commit == published?.commit else {
                // Published by another replica (or before this one took the lock): fetch before replacing it.
                state.validated = (published?.commit, now)
                state.lastPublished = nil
                return .needsFetch
            }
            return candidate.fetchedAt < validated.seenAt ? .needsFetch : nil
        }
        if let verdict {
            self.logger.debug(
                "not publishing the served commit yet",
                metadata: ["commit": "\(candidate.commit)", "published": "\(published?.commit ?? "none")", "verdict": "\(verdict)"]
            )
            return verdict
        }
        let change = await self.change(from: published, to: candidate)
        let result = try await self.store.publish(
            AppliedState(commit: candidate.commit, appliedAt: now, lastChange: change.lastChange, overrides: candidate.overrides),
            replacing: published?.commit,
            changes: change.outbox,
            fetchedAt: candidate.fetchedAt
        )
        switch result {
        case .published(let enqueued):
            self.state.withLock { state in
                state.sawPublication = true
                state.firstServed = nil
                state.validated = (candidate.commit, candidate.fetchedAt)
                state.lastPublished = candidate.snapshot
                state.lastPublishedOverrides = candidate.overrides
                state.publishedCommit = candidate.commit
                state.publishedOverrides = candidate.overrides
                state.pending = state.candidate?.commit != candidate.commit || state.candidate?.overrides != candidate.overrides
            }
            self.logger.info(
                "published commit",
                metadata: [
                    "commit": "\(candidate.commit)",
                    "previous": "\(published?.commit ?? "none")",
                    "overrides": "\(candidate.overrides.joined(separator: ","))",
                    "messages": "\(enqueued)",
                ]
            )
        case .conflict(let current):
            self.logger.info("another replica published first", metadata: ["published": "\(current ?? "none")"])
        }
        return .again
    }

    /// The messages and each environment's last change from the published commit to the candidate; every flag when
    /// git no longer has the published commit.
    ///
    /// For the first commit ever published: the change from the first commit this replica served, when that was
    /// another one (it served it before it could publish it, and clients fetched it); otherwise no messages.
    private func change(from published: AppliedState?, to candidate: Candidate) async -> (outbox: [EnvironmentChange], lastChange: [String: String]) {
        guard let published else {
            let first = self.state.withLock { $0.firstServed }
            guard let first, first.commit != candidate.commit || first.overrides != candidate.overrides else {
                let lastChange = Dictionary(uniqueKeysWithValues: candidate.snapshot.environments.keys.map { ($0, candidate.commit) })
                return ([], lastChange)
            }
            let changes = ChangeSet.between(first.snapshot, candidate.snapshot)
            let base = Dictionary(uniqueKeysWithValues: first.snapshot.environments.keys.map { ($0, first.commit) })
            return (
                changes.environmentChanges(commit: candidate.commit, previousCommit: first.commit),
                Self.lastChange(base, changes, candidate)
            )
        }
        var previous = self.state.withLock { state in
            state.lastPublishedOverrides == published.overrides ? state.lastPublished : nil
        }
        if previous?.commit != published.commit {
            previous = await self.worker.load(commitHex: published.commit)
            if let loaded = previous, !published.overrides.isEmpty, let overrideStore {
                // What was published: the commit with its overrides then, ended or not since.
                let overrides = (try? await overrideStore.overrides(ids: published.overrides)) ?? []
                previous = OverrideOverlay.apply(loaded, overrides)
            }
        }
        let changes: ChangeSet
        if let previous {
            changes = ChangeSet.between(previous, candidate.snapshot)
        } else {
            self.logger.warning(
                "the published commit cannot be loaded; publishing a change of every flag",
                metadata: ["commit": "\(published.commit)"]
            )
            changes = ChangeSet.everyFlagChanged(in: candidate.snapshot)
        }
        return (
            changes.environmentChanges(commit: candidate.commit, previousCommit: published.commit),
            Self.lastChange(published.lastChange, changes, candidate)
        )
    }

    /// Each environment's last change once `candidate` is published over a commit whose last changes were `base`.
    private static func lastChange(_ base: [String: String], _ changes: ChangeSet, _ candidate: Candidate) -> [String: String] {
        var lastChange = base
        for name in candidate.snapshot.environments.keys
        where lastChange[name] == nil || changes.environments[name]?.isEffective == true {
            lastChange[name] = candidate.commit
        }
        for name in lastChange.keys where candidate.snapshot.environments[name] == nil {
            lastChange[name] = nil
        }
        return lastChange
    }
}
