//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import HalyardSync
import Synchronization

// MARK: - API

extension StateDatabase {
    /// Records a newly applied commit and enqueues its webhooks, atomically.
    ///
    /// In one transaction this stores `state` and, for every non-empty change, one message per enabled subscription
    /// whose environments include the change's environment. When such a subscription still has a pending message for
    /// that environment, the two are coalesced (DESIGN §7): the pending message is replaced by one with a new
    /// `webhook-id` whose change runs from the oldest `previousCommit` to the new commit
    /// (``EnvironmentChange/coalesce(_:_:)``), and dropped when that net change is empty.
    ///
    /// A ``WebhookDeliverer`` running on this database is woken automatically when messages were enqueued.
    ///
    /// - Parameters:
    ///   - state: The applied commit and each environment's last change.
    ///   - changes: The effective changes per environment; empty ones are ignored.
    ///   - fetchedAt: When the commit was fetched, for `halyard_propagation_seconds`. A coalesced message keeps the
    ///     earlier time, so the metric measures how long the oldest change waited.
    /// - Returns: The number of messages enqueued (new or replacing a pending one).
    ///
    /// The stored bodies name the environment's flags by path only (`"flagsUrl":"/v1/environments/<env>/flags"`): the
    /// service's address is an HTTP concern, known once the server is bound, and ``WebhookDeliverer`` completes the
    /// URL with it when it sends the message (``WebhookDeliverer/init(database:httpClient:configuration:clock:random:servedCommit:flagsBaseURL:metricsFactory:logger:)``).
    @discardableResult
    public func recordApplied(
        _ state: AppliedState,
        changes: [EnvironmentChange],
        fetchedAt: Date
    ) throws(NotifyError) -> Int {
        let now = self.clock.now()
        let inFlight = self.inFlight.withLock { $0 }
        let enqueued = try self.writeOutbox { db in
            try Self.saveAppliedState(state, in: db)
            let changes = changes.filter { !$0.isEmpty }
            guard !changes.isEmpty else { return 0 }
            let subscriptions = try Row.fetchAll(db, sql: "SELECT id, environments FROM subscription WHERE disabled = 0").map { row in
                (id: row["id"] as String, environments: Set(try Self.decodeEnvironments(row["environments"])))
            }
            var enqueued = 0
            for change in changes {
                let subscriptionIDs = subscriptions.filter { $0.environments.contains(change.environment) }.map(\.id)
                enqueued += try Self.enqueue(
                    change, subscriptionIDs: subscriptionIDs, now: now, fetchedAt: fetchedAt, inFlight: inFlight, in: db)
            }
            return enqueued
        }
        if enqueued > 0 {
            self.notifyEnqueued()
        }
        return enqueued
    }

    /// The number of messages waiting in the outbox.
    public func pendingMessageCount() throws(NotifyError) -> Int {
        try self.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// The messages waiting in the outbox, soonest due first, optionally only those of one subscription.
    public func pendingMessages(subscriptionID: String? = nil) throws(NotifyError) -> [PendingMessage] {
        try self.read { db in
            let rows: [Row]
            if let subscriptionID {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM outbox WHERE subscription_id = ? ORDER BY next_attempt_at, id",
                    arguments: [subscriptionID]
                )
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY next_attempt_at, id")
            }
            return try rows.map { row in
                PendingMessage(
                    messageID: row["message_id"],
                    subscriptionID: row["subscription_id"],
                    environment: row["environment"],
                    change: try Self.decodeChange(row["change"]),
                    body: Array(row["body"] as Data),
                    enqueuedAt: Date(timeIntervalSince1970: row["enqueued_at"]),
                    fetchedAt: Date(timeIntervalSince1970: row["fetched_at"]),
                    attempts: row["attempts"],
                    nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"])
                )
            }
        }
    }
}

// MARK: - Enqueueing

extension StateDatabase {
    /// Inserts a message for each subscription, or coalesces it with the subscription's pending one for the same
    /// environment.
    ///
    /// The pending messages of the environment are read in one query, and a new message's stored change and body,
    /// which are the same for every subscriber, are encoded once: the watcher writes this in the transaction that
    /// applies a commit, so its cost at hundreds of subscribers is on the path from push to served.
    ///
    /// A pending message being sent right now (its place in `inFlight`) may reach the subscriber: a change that cancels it
    /// out then replaces it with that change alone instead of dropping it (DESIGN §7 drops an empty net change), or the
    /// subscriber would keep what the message told it.
    /// - Returns: How many messages are now pending for the change.
    static func enqueue(
        _ change: EnvironmentChange,
        subscriptionIDs: [String],
        now: Date,
        fetchedAt: Date,
        inFlight: Set<String> = [],
        in db: Database
    ) throws -> Int {
        guard !subscriptionIDs.isEmpty else { return 0 }
        var pendingBySubscription: [String: Row] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT id, subscription_id, change, fetched_at, next_attempt_at FROM outbox WHERE environment = ?",
            arguments: [change.environment]
        ) {
            pendingBySubscription[row["subscription_id"]] = row
        }
        let encodedChange = try Self.encodeChange(change)
        let body = Data(WebhookPayload.body(for: change, enqueuedAt: now))
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (message_id, subscription_id, environment, commit_sha, change, body, enqueued_at,
                    fetched_at, attempts, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                """
        )
        var enqueued = 0
        for subscriptionID in subscriptionIDs {
            guard let pending = pendingBySubscription[subscriptionID] else {
                try insert.execute(arguments: [
                    RandomID.make(prefix: "msg_"), subscriptionID, change.environment, change.commit, encodedChange, body,
                    now.timeIntervalSince1970, fetchedAt.timeIntervalSince1970, now.timeIntervalSince1970,
                ])
                enqueued += 1
                continue
            }
            let sending = inFlight.contains(Self.inFlightKey(subscriptionID: subscriptionID, environment: change.environment))
            if try Self.coalesce(change, into: pending, sending: sending, now: now, fetchedAt: fetchedAt, in: db) { enqueued += 1 }
        }
        return enqueued
    }

    /// Coalesces `change` with a subscription's pending message (`pending`: its row) for the same environment;
    /// `sending` says that message is being sent right now.
    /// - Returns: Whether a message is still pending: false when the two changes cancel out and it was removed.
    private static func coalesce(
        _ change: EnvironmentChange, into pending: Row, sending: Bool, now: Date, fetchedAt: Date, in db: Database
    ) throws -> Bool {
        let rowID: Int64 = pending["id"]
        let coalesced = EnvironmentChange.coalesce(try Self.decodeChange(pending["change"]), change)
        guard let merged = coalesced ?? (sending ? change : nil) else {
            try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [rowID])
            return false
        }
        // A new webhook-id and body (whose timestamp is now); the enqueue time, the attempt count and the retry
        // schedule of the replaced message are kept (DESIGN §7), so neither the 24 h limit nor the backoff starts over
        // with every new commit, and a failing receiver is not hammered by them. An attempt of the replaced message
        // still in flight completes harmlessly: its outcome is applied by message id, which no longer exists.
        let olderFetchedAt: Double = pending["fetched_at"]
        let pendingNextAttempt: Double = pending["next_attempt_at"]
        try db.execute(
            sql: """
                UPDATE outbox SET message_id = ?, commit_sha = ?, change = ?, body = ?, fetched_at = ?, next_attempt_at = ?
                WHERE id = ?
                """,
            arguments: [
                RandomID.make(prefix: "msg_"), merged.commit, try Self.encodeChange(merged),
                Data(WebhookPayload.body(for: merged, enqueuedAt: now)),
                min(olderFetchedAt, fetchedAt.timeIntervalSince1970), max(now.timeIntervalSince1970, pendingNextAttempt), rowID,
            ]
        )
        return true
    }

    static func encodeChange(_ change: EnvironmentChange) throws -> String {
        String(decoding: try JSONEncoder.sorted.encode(change), as: UTF8.self)
    }

    static func decodeChange(_ json: String) throws -> EnvironmentChange {
        try JSONDecoder().decode(EnvironmentChange.self, from: Data(json.utf8))
    }
}

// MARK: - Delivery (used by WebhookDeliverer)

extension StateDatabase {
    /// Replaces a pending message's body with the one it is first sent with (`flagsUrl` completed); a message replaced
    /// or removed meanwhile is left alone.
    public func storeCompletedBody(_ body: [UInt8], messageID: String) throws(NotifyError) {
        try self.write { db in
            try db.execute(sql: "UPDATE outbox SET body = ? WHERE message_id = ?", arguments: [Data(body), messageID])
        }
    }

    /// The due messages to send now, at most one per subscription and none for `busySubscriptions`, and the time the
    /// next message becomes due (`nil` when none is waiting or when `limit` due messages were found).
    ///
    /// With `servedCommit`, messages naming the commit recorded last are held back (and `heldBack` is true) until the
    /// service serves that commit (DESIGN §7). The watcher records a commit, then swaps the store to it, then records
    /// the next; so reading the outbox and the recorded commit in one snapshot, and what is served only afterwards,
    /// means a message is picked only once the commit it names, or a newer one, is served.
    func dueMessages(
        now: Date,
        busySubscriptions: Set<String>,
        limit: Int,
        servedCommit: (@Sendable () -> String?)? = nil
    ) throws(NotifyError) -> (messages: [OutboxMessage], nextDue: Date?, heldBack: Bool) {
        try self.read { db in
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id, o.subscription_id, o.commit_sha, o.next_attempt_at FROM outbox o
                    JOIN subscription s ON s.id = o.subscription_id
                    WHERE s.disabled = 0 ORDER BY o.next_attempt_at, o.id
                    """
            )
            var heldCommit: String?
            if let servedCommit, !candidates.isEmpty {
                let recorded = try String.fetchOne(db, sql: "SELECT commit_sha FROM applied_state WHERE id = 1")
                if let recorded, servedCommit() != recorded {
                    heldCommit = recorded
                }
            }
            let nowSeconds = now.timeIntervalSince1970
            var busy = busySubscriptions
            var picked: [Int64] = []
            var nextDue: Double?
            var saturated = false
            var heldBack = false
            for row in candidates {
                let subscriptionID: String = row["subscription_id"]
                guard !busy.contains(subscriptionID) else { continue }
                if let heldCommit, row["commit_sha"] as String == heldCommit {
                    heldBack = true
                    continue
                }
                let nextAttempt: Double = row["next_attempt_at"]
                if nextAttempt <= nowSeconds {
                    if picked.count < limit {
                        picked.append(row["id"])
                        busy.insert(subscriptionID)
                    } else {
                        saturated = true
                        break
                    }
                } else {
                    nextDue = nextDue.map { min($0, nextAttempt) } ?? nextAttempt
                    break  // sorted by time: nothing later is due
                }
            }
            guard !picked.isEmpty else {
                return ([], nextDue.map(Date.init(timeIntervalSince1970:)), heldBack)
            }
            let placeholders = Array(repeating: "?", count: picked.count).joined(separator: ",")
            let messages = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.*, s.url, s.secret FROM outbox o JOIN subscription s ON s.id = o.subscription_id
                    WHERE o.id IN (\(placeholders)) ORDER BY o.next_attempt_at, o.id
                    """,
                arguments: StatementArguments(picked)
            ).map { row in
                OutboxMessage(
                    messageID: row["message_id"],
                    subscriptionID: row["subscription_id"],
                    url: row["url"],
                    secret: row["secret"],
                    environment: row["environment"],
                    commit: row["commit_sha"],
                    body: Array(row["body"] as Data),
                    enqueuedAt: Date(timeIntervalSince1970: row["enqueued_at"]),
                    fetchedAt: Date(timeIntervalSince1970: row["fetched_at"]),
                    attempts: row["attempts"]
                )
            }
            return (messages, saturated ? nil : nextDue.map(Date.init(timeIntervalSince1970:)), heldBack)
        }
    }

    /// Claims the due messages (``dueMessages(now:busySubscriptions:limit:servedCommit:)``); one process owns the
    /// file, so no lease is needed: the deliverer's busy subscriptions keep a message from being sent twice at once.
    public func claimDueMessages(
        now: Date,
        busySubscriptions: Set<String>,
        limit: Int,
        lease: Duration,
        servedCommit: (@Sendable () -> String?)?
    ) throws(NotifyError) -> ClaimedMessages {
        let batch = try self.dueMessages(now: now, busySubscriptions: busySubscriptions, limit: limit, servedCommit: servedCommit)
        self.inFlight.withLock { inFlight in
            for message in batch.messages {
                inFlight.insert(Self.inFlightKey(subscriptionID: message.subscriptionID, environment: message.environment))
            }
        }
        return ClaimedMessages(messages: batch.messages, nextDue: batch.nextDue, heldBack: batch.heldBack)
    }

    /// Applies the outcome of one attempt and appends it to the delivery log, in one transaction.
    public func complete(_ message: OutboxMessage, attempt: DeliveryAttempt, outcome: DeliveryOutcome) throws(NotifyError) {
        try self.complete([OutboxCompletion(message: message, attempt: attempt, outcome: outcome)])
    }
}
