//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where the watcher persists the commit it applies, together with the outbox of that commit's changes.
///
/// It exists so the data path runs one way (DESIGN §9): the watcher in `HalyardSync` knows it must persist before it
/// swaps the store, but not how nor what a webhook is. `HalyardNotify` implements it (its SQLite `StateDatabase`; a
/// PostgreSQL store for several replicas, DESIGN §10, implements it next to it), so nothing here names a database
/// library or a transaction type. The requirements are `async` because a network database (PostgreSQL) answers
/// asynchronously; a synchronous implementation (SQLite) satisfies them as it is.
///
/// The messages carry no URL of this service: where subscribers fetch the flags (`flagsUrl`) is an HTTP concern, added
/// by whoever sends them once the server is bound.
///
/// Two promises make a restart safe, and every implementation keeps them:
/// - ``recordApplied(_:changes:fetchedAt:)`` stores the applied commit and enqueues the messages of its
///   changes in one transaction: after a crash either both happened or neither did.
/// - ``appliedState()`` returns what the last successful call stored, so a restarted service serves that commit at
///   once and diffs the branch tip against it.
///
/// ```swift
/// let watcher = FlagWatcher(configuration: configuration, store: store, database: stateDatabase, listeners: [], logger: logger)
/// ```
public protocol AppliedStateStore: Sendable {
    /// Records a newly applied commit and enqueues the messages of its effective changes, in one transaction.
    ///
    /// - Parameters:
    ///   - state: The applied commit and each environment's last change.
    ///   - changes: The changes per environment; empty ones are ignored. Empty for the first commit of a fresh service.
    ///   - fetchedAt: When the commit was fetched, so propagation time can be measured from there.
    /// - Returns: The number of messages enqueued.
    /// - Throws: When the store cannot be written; then nothing was recorded and the commit must not be served.
    @discardableResult
    func recordApplied(
        _ state: AppliedState,
        changes: [EnvironmentChange],
        fetchedAt: Date
    ) async throws -> Int

    /// The commit applied last, or `nil` for a fresh service.
    ///
    /// - Throws: When the store cannot be read.
    func appliedState() async throws -> AppliedState?
}
