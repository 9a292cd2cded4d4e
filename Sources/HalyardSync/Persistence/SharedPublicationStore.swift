//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// A state store shared by several replicas (DESIGN §10), through which exactly one of them publishes at a time.
///
/// With such a store the watcher no longer persists before it swaps: every replica fetches, validates, serves and sends
/// its own SSE events on its own, and publication to the outbox is a separate step (``PublicationLoop``), retried until
/// it succeeds. Publication is the job of the replica holding the store's publisher lock; it diffs the commit it has
/// just fetched and serves against the **published commit** (``AppliedStateStore/appliedState()``, shared by all
/// replicas) and writes the messages with the new published commit in one transaction, guarded by a compare-and-set on
/// the old one (``publish(_:replacing:changes:fetchedAt:)``), so a stale publisher can never overwrite a newer commit
/// and no change is published twice.
///
/// `HalyardNotify`'s PostgreSQL store implements it (an advisory lock held by a dedicated connection, `LISTEN`/`NOTIFY`
/// for shared triggers); nothing here names a database. The SQLite store does not: one process persists before it
/// swaps, as before.
public protocol SharedPublicationStore: AppliedStateStore {
    /// Whether this replica holds the publisher lock now, trying to take it when it does not.
    ///
    /// - Throws: When the store cannot be reached; the lock is not held then.
    func acquirePublisherLock() async throws -> Bool

    /// Writes `state` as the new published commit and enqueues the messages of `changes`, in one transaction, provided
    /// the published commit is still `previous` (`nil`: none was ever published).
    ///
    /// - Returns: ``PublicationResult/published(_:)`` with the number of messages enqueued, or
    ///   ``PublicationResult/conflict(current:)`` when another replica published meanwhile (nothing was written).
    /// - Throws: When the store cannot be written, or the publisher lock was lost; nothing was written then.
    func publish(
        _ state: AppliedState,
        replacing previous: String?,
        changes: [EnvironmentChange],
        fetchedAt: Date
    ) async throws -> PublicationResult

    /// Tells every other replica to fetch now (a push hook or `/v1/refresh` reached this one). Never throws: when the
    /// store is unreachable the others still fetch at their next poll.
    func announceRefresh() async

    /// Keeps the store's shared notifications flowing until the task is cancelled: calls `onRefresh` whenever another
    /// replica announced a refresh, and wakes this replica's deliverer when another one enqueued messages. Reconnects
    /// with backoff when the store goes away.
    func followSharedEvents(onRefresh: @escaping @Sendable () -> Void) async

    /// What this replica knows of the store's health, for `/v1/status` and the metrics.
    var health: SharedStateHealth { get }
}

/// The answer to ``SharedPublicationStore/publish(_:replacing:changes:fetchedAt:)``.
public enum PublicationResult: Sendable, Equatable {
    /// Published, with the number of messages enqueued.
    case published(Int)
    /// The published commit was no longer the expected one: another replica published first.
    case conflict(current: String?)
}

/// The health of a shared state store as one replica sees it (`state` in `/v1/status`).
public struct SharedStateHealth: Sendable, Equatable {
    /// `postgresql`.
    public var kind: String
    /// Whether the last exchange with the store succeeded.
    public var reachable: Bool
    /// The last error, while ``reachable`` is false.
    public var lastError: String?
    /// Whether this replica holds the publisher lock.
    public var publisher: Bool
    /// The published commit as this replica last read or wrote it.
    public var publishedCommit: String?
    /// Whether this replica, as the publisher, serves a commit it has not published yet.
    public var publicationPending: Bool

    /// Creates a health report.
    public init(
        kind: String,
        reachable: Bool,
        lastError: String? = nil,
        publisher: Bool = false,
        publishedCommit: String? = nil,
        publicationPending: Bool = false
    ) {
        self.kind = kind
        self.reachable = reachable
        self.lastError = lastError
        self.publisher = publisher
        self.publishedCommit = publishedCommit
        self.publicationPending = publicationPending
    }
}
