//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import HalyardSync
import PostgresNIO

// MARK: - Enqueueing

extension PostgresStateStore {
    /// Records a newly applied commit and enqueues its webhooks in one transaction, coalescing with the pending
    /// message of the same subscription and environment as ``StateDatabase/recordApplied(_:changes:fetchedAt:)`` does.
    ///
    /// - Returns: The number of messages enqueued (new or replacing a pending one).
    @discardableResult
    public func recordApplied(
        _ state: AppliedState,
        changes: [EnvironmentChange],
        fetchedAt: Date
    ) async throws(NotifyError) -> Int {
        let now = self.clock.now()
        let lastChange = String(decoding: try Self.encoded(state.lastChange), as: UTF8.self)
        let enqueued = try await self.transactionOnOutbox { connection in
            // Written first: the lock on the one applied-state row makes replicas that record at once take turns, so
            // two enqueues for the same subscription and environment never race to insert.
            try await connection.query(
                """
                INSERT INTO halyard_applied_state (id, commit_sha, applied_at, last_change)
                VALUES (1, \(state.commit), \(state.appliedAt.timeIntervalSince1970), \(lastChange))
                ON CONFLICT (id) DO UPDATE SET commit_sha = excluded.commit_sha, applied_at = excluded.applied_at,
                    last_change = excluded.last_change
                """,
                logger: self.logger
            )
            return try await self.enqueue(changes, now: now, fetchedAt: fetchedAt, on: connection)
        }
        if enqueued > 0 {
            self.notifyEnqueued()
        }
        return enqueued
    }

    /// Enqueues the messages of `changes` for every enabled subscription of each changed environment, coalescing with
    /// pending ones; runs inside the caller's transaction.
    /// - Returns: The number of messages enqueued (new or replacing a pending one).
    func enqueue(_ changes: [EnvironmentChange], now: Date, fetchedAt: Date, on connection: PostgresConnection) async throws -> Int {
        let changes = changes.filter { !$0.isEmpty }
        guard !changes.isEmpty else { return 0 }
        var subscriptions: [(id: String, environments: Set<String>)] = []
        let rows = try await connection.query(
            "SELECT id, environments FROM halyard_subscription WHERE NOT disabled ORDER BY created_at, id",
            logger: self.logger
        )
        for try await (id, environments) in rows.decode((String, String).self) {
            subscriptions.append((id, Set(try StateDatabase.decodeEnvironments(environments))))
        }
        var enqueued = 0
        for change in changes {
            let subscriptionIDs = subscriptions.filter { $0.environments.contains(change.environment) }.map(\.id)
            guard !subscriptionIDs.isEmpty else { continue }
            enqueued += try await self.enqueue(change, subscriptionIDs: subscriptionIDs, now: now, fetchedAt: fetchedAt, on: connection)
        }
        return enqueued
    }

    /// Inserts a message for each subscription, or coalesces it with the pending one of the same subscription and
    /// environment (DESIGN §7), in four statements whatever the number of subscriptions: lock the pending messages,
    /// then insert, replace and drop (an empty net change) each in one statement.
    /// - Returns: The number of subscriptions with a message now pending for the change.
    private func enqueue(
        _ change: EnvironmentChange,
        subscriptionIDs: [String],
        now: Date,
        fetchedAt: Date,
        on connection: PostgresConnection
    ) async throws -> Int {
        let pendingRows = try await connection.query(
            """
            SELECT subscription_id, id, change, fetched_at, next_attempt_at, claimed_until FROM halyard_outbox
            WHERE environment = \(change.environment) AND subscription_id = ANY(\(subscriptionIDs)) FOR UPDATE
            """,
            logger: self.logger
        )
        var pending: [String: (rowID: Int64, change: String, fetchedAt: Double, nextAttempt: Double, sending: Bool)] = [:]
        for try await (subscription, rowID, storedChange, olderFetchedAt, nextAttempt, claimedUntil) in pendingRows.decode(
            (String, Int64, String, Double, Double, Double?).self
        ) {
            // Claimed under a lease that still runs: being sent right now.
            let sending = claimedUntil.map { $0 > now.timeIntervalSince1970 } ?? false
            pending[subscription] = (rowID, storedChange, olderFetchedAt, nextAttempt, sending)
        }
        var batch = EnqueueBatch()
        for subscriptionID in subscriptionIDs {
            guard let row = pending[subscriptionID] else {
                batch.inserted.append(subscriptionID)
                continue
            }
            // A message being sent may reach the subscriber: a change that cancels it out replaces it instead of
            // dropping it, as with SQLite.
            let coalesced = EnvironmentChange.coalesce(try StateDatabase.decodeChange(row.change), change)
            guard let merged = coalesced ?? (row.sending ? change : nil) else {
                batch.dropped.append(row.rowID)
                continue
            }
            // As in SQLite: a new webhook-id and body; the enqueue time, the attempt count and the retry schedule are
            // kept. A claim on the replaced message stays until its holder completes it (by the claim, which releases
            // this row) or its lease expires; the old message's outcome no longer applies, as its id is gone.
            batch.replaced.append(
                Replacement(
                    rowID: row.rowID,
                    messageID: RandomID.make(prefix: "msg_"),
                    commit: merged.commit,
                    change: try StateDatabase.encodeChange(merged),
                    body: ByteBuffer(bytes: WebhookPayload.body(for: merged, enqueuedAt: now)),
                    fetchedAt: min(row.fetchedAt, fetchedAt.timeIntervalSince1970),
                    nextAttempt: max(now.timeIntervalSince1970, row.nextAttempt)
                )
            )
        }
        if !batch.inserted.isEmpty {
            let messageIDs = batch.inserted.map { _ in RandomID.make(prefix: "msg_") }
            let body = ByteBuffer(bytes: WebhookPayload.body(for: change, enqueuedAt: now))
            try await connection.query(
                """
                INSERT INTO halyard_outbox (message_id, subscription_id, environment, commit_sha, change, body, enqueued_at,
                    fetched_at, attempts, next_attempt_at)
                SELECT v.message_id, v.subscription_id, \(change.environment), \(change.commit),
                    \(try StateDatabase.encodeChange(change)), \(body), \(now.timeIntervalSince1970),
                    \(fetchedAt.timeIntervalSince1970), 0, \(now.timeIntervalSince1970)
                FROM unnest(\(messageIDs)::text[], \(batch.inserted)::text[]) WITH ORDINALITY AS v(message_id, subscription_id, n)
                ORDER BY v.n
                """,
                logger: self.logger
            )
        }
        if !batch.replaced.isEmpty {
            let rows = batch.replaced
            try await connection.query(
                """
                UPDATE halyard_outbox o SET message_id = v.message_id, commit_sha = v.commit_sha, change = v.change,
                    body = v.body, fetched_at = v.fetched_at, next_attempt_at = v.next_attempt_at
                FROM unnest(\(rows.map(\.rowID))::int8[], \(rows.map(\.messageID))::text[], \(rows.map(\.commit))::text[],
                    \(rows.map(\.change))::text[], \(rows.map(\.body))::bytea[], \(rows.map(\.fetchedAt))::float8[],
                    \(rows.map(\.nextAttempt))::float8[])
                    AS v(id, message_id, commit_sha, change, body, fetched_at, next_attempt_at)
                WHERE o.id = v.id
                """,
                logger: self.logger
            )
        }
        if !batch.dropped.isEmpty {
            try await connection.query("DELETE FROM halyard_outbox WHERE id = ANY(\(batch.dropped))", logger: self.logger)
        }
        return batch.inserted.count + batch.replaced.count
    }

    // MARK: - Reading the outbox

    /// The number of messages waiting in the outbox.
    public func pendingMessageCount() async throws(NotifyError) -> Int {
        try await self.run { connection in
            try await connection.query("SELECT COUNT(*) FROM halyard_outbox", logger: self.logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    /// The messages waiting in the outbox, soonest due first, optionally only those of one subscription.
    public func pendingMessages(subscriptionID: String? = nil) async throws(NotifyError) -> [PendingMessage] {
        try await self.run { connection in
            let columns = "message_id, subscription_id, environment, change, body, enqueued_at, fetched_at, attempts, next_attempt_at"
            let rows: PostgresRowSequence
            if let subscriptionID {
                rows = try await connection.query(
                    "SELECT \(unescaped: columns) FROM halyard_outbox WHERE subscription_id = \(subscriptionID) ORDER BY next_attempt_at, id",
                    logger: self.logger
                )
            } else {
                rows = try await connection.query(
                    "SELECT \(unescaped: columns) FROM halyard_outbox ORDER BY next_attempt_at, id",
                    logger: self.logger
                )
            }
            var messages: [PendingMessage] = []
            for try await (messageID, subscription, environment, change, body, enqueuedAt, fetchedAt, attempts, nextAttemptAt) in rows.decode(
                (String, String, String, String, Data, Double, Double, Int, Double).self
            ) {
                messages.append(
                    PendingMessage(
                        messageID: messageID,
                        subscriptionID: subscription,
                        environment: environment,
                        change: try StateDatabase.decodeChange(change),
                        body: Array(body),
                        enqueuedAt: Date(timeIntervalSince1970: enqueuedAt),
                        fetchedAt: Date(timeIntervalSince1970: fetchedAt),
                        attempts: attempts,
                        nextAttemptAt: Date(timeIntervalSince1970: nextAttemptAt)
                    )
                )
            }
            return messages
        }
    }

    // MARK: - Delivery

    /// Claims the due messages with a lease until `now + lease` (see ``OutboxStore``): at most one per subscription,
    /// none of a subscription that `busySubscriptions` names or whose message another replica holds, at most `limit`.
    ///
    /// The candidates and the recorded commit are read in one statement (one snapshot), so a message held back for the
    /// commit it names is picked only once that commit (or a newer one) is served, as with SQLite. The claim itself is
    /// an `UPDATE` of the rows still unclaimed, locked `FOR UPDATE SKIP LOCKED`: of two replicas claiming at once, each
    /// gets different messages.
    public func claimDueMessages(
        now: Date,
        busySubscriptions: Set<String>,
        limit: Int,
        lease: Duration,
        servedCommit: (@Sendable () -> String?)?
    ) async throws(NotifyError) -> ClaimedMessages {
        let nowSeconds = now.timeIntervalSince1970
        let candidates = try await self.run { connection in
            let rows = try await connection.query(
                """
                SELECT o.id, o.subscription_id, o.commit_sha, o.next_attempt_at, o.claimed_until,
                    (SELECT commit_sha FROM halyard_applied_state WHERE id = 1)
                FROM halyard_outbox o JOIN halyard_subscription s ON s.id = o.subscription_id
                WHERE NOT s.disabled ORDER BY o.next_attempt_at, o.id
                """,
                logger: self.logger
            )
            var candidates: [Candidate] = []
            for try await (id, subscription, commit, nextAttempt, claimedUntil, recorded) in rows.decode(
                (Int64, String, String, Double, Double?, String?).self
            ) {
                candidates.append(Candidate(id: id, subscriptionID: subscription, commit: commit, nextAttempt: nextAttempt, claimedUntil: claimedUntil, recorded: recorded))
            }
            return candidates
        }
        var heldCommit: String?
        if let servedCommit, let recorded = candidates.first?.recorded, servedCommit() != recorded {
            heldCommit = recorded
        }
        // A subscription whose message is leased (by another replica, or by this one) is busy until the lease ends.
        var busy = busySubscriptions
        var nextDue: Double?
        for candidate in candidates {
            if let claimedUntil = candidate.claimedUntil, claimedUntil > nowSeconds {
                if !busySubscriptions.contains(candidate.subscriptionID) {
                    nextDue = nextDue.map { min($0, claimedUntil) } ?? claimedUntil
                }
                busy.insert(candidate.subscriptionID)
            }
        }
        var picked: [Candidate] = []
        var saturated = false
        var heldBack = false
        for candidate in candidates {
            guard !busy.contains(candidate.subscriptionID) else { continue }
            if let heldCommit, candidate.commit == heldCommit {
                heldBack = true
                continue
            }
            if candidate.nextAttempt <= nowSeconds {
                if picked.count < limit {
                    picked.append(candidate)
                    busy.insert(candidate.subscriptionID)
                } else {
                    saturated = true
                    break
                }
            } else {
                nextDue = nextDue.map { min($0, candidate.nextAttempt) } ?? candidate.nextAttempt
                break  // sorted by time: nothing later is due
            }
        }
        let nextDueDate = saturated ? nil : nextDue.map(Date.init(timeIntervalSince1970:))
        guard !picked.isEmpty else {
            return ClaimedMessages(messages: [], nextDue: nextDueDate, heldBack: heldBack)
        }
        let claim = RandomID.make(prefix: "claim_", length: 16) + ":"
        let until = nowSeconds + lease.seconds
        let ids = picked.map(\.id)
        let claimed = try await self.run { connection in
            let rows = try await connection.query(
                """
                UPDATE halyard_outbox o SET claim = \(claim) || o.id::text, claimed_until = \(until)
                FROM halyard_subscription s
                WHERE s.id = o.subscription_id AND NOT s.disabled AND o.id IN (
                    SELECT id FROM halyard_outbox
                    WHERE id = ANY(\(ids)) AND (claimed_until IS NULL OR claimed_until <= \(nowSeconds))
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING o.id, o.message_id, o.subscription_id, s.url, s.secret, o.environment, o.commit_sha, o.body,
                    o.enqueued_at, o.fetched_at, o.attempts, o.claim
                """,
                logger: self.logger
            )
            var messages: [Int64: OutboxMessage] = [:]
            for try await (id, messageID, subscription, url, secret, environment, commit, body, enqueuedAt, fetchedAt, attempts, token) in rows.decode(
                (Int64, String, String, String, String, String, String, Data, Double, Double, Int, String).self
            ) {
                messages[id] = OutboxMessage(
                    messageID: messageID,
                    subscriptionID: subscription,
                    url: url,
                    secret: secret,
                    environment: environment,
                    commit: commit,
                    body: Array(body),
                    enqueuedAt: Date(timeIntervalSince1970: enqueuedAt),
                    fetchedAt: Date(timeIntervalSince1970: fetchedAt),
                    attempts: attempts,
                    claim: token
                )
            }
            return messages
        }
        return ClaimedMessages(messages: ids.compactMap { claimed[$0] }, nextDue: nextDueDate, heldBack: heldBack)
    }

    /// Replaces a pending message's body with the one it is first sent with; a message replaced or removed meanwhile is
    /// left alone.
    public func storeCompletedBody(_ body: [UInt8], messageID: String) async throws(NotifyError) {
        try await self.run { connection in
            try await connection.query(
                "UPDATE halyard_outbox SET body = \(Data(body)) WHERE message_id = \(messageID)",
                logger: self.logger
            )
            return ()
        }
    }

    /// Applies the outcome of one attempt and appends it to the delivery log, in one transaction, and ends the claim.
    ///
    /// The outcome applies to the message by its id, as with SQLite: a message coalesced meanwhile has a new id and is
    /// left pending (its claim is released, so it is sent at once). A message whose lease expired and that another
    /// replica claimed again keeps that replica's claim.
    public func complete(_ message: OutboxMessage, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws(NotifyError) {
        try await self.transactionOnOutbox { connection in
            try await self.apply(OutboxCompletion(message: message, attempt: attempt, outcome: outcome), on: connection)
        }
    }

    /// Ends the claim of one completion, removes, reschedules or disables as its outcome says, and appends its attempt
    /// to the delivery log; runs inside the caller's transaction.
    func apply(_ completion: OutboxCompletion, on connection: PostgresConnection) async throws {
        let message = completion.message
        if let claim = message.claim {
            try await connection.query(
                "UPDATE halyard_outbox SET claim = NULL, claimed_until = NULL WHERE claim = \(claim)",
                logger: self.logger
            )
        }
        switch completion.outcome {
        case .delivered, .dead:
            try await connection.query("DELETE FROM halyard_outbox WHERE message_id = \(message.messageID)", logger: self.logger)
        case .retry(let date):
            try await connection.query(
                """
                UPDATE halyard_outbox SET attempts = \(completion.attempt.attempt), next_attempt_at = \(date.timeIntervalSince1970)
                WHERE message_id = \(message.messageID)
                """,
                logger: self.logger
            )
        case .gone:
            try await connection.query(
                "UPDATE halyard_subscription SET disabled = true WHERE id = \(message.subscriptionID)",
                logger: self.logger
            )
            try await connection.query(
                "DELETE FROM halyard_outbox WHERE subscription_id = \(message.subscriptionID)",
                logger: self.logger
            )
        }
        try await self.appendDelivery(completion.attempt, subscriptionID: message.subscriptionID, on: connection)
    }

    /// Appends an attempt to a subscription's log (unless the subscription was deleted meanwhile) and trims the log to
    /// the last ``StateDatabase/deliveryLogLimit`` entries.
    func appendDelivery(_ attempt: DeliveryAttempt, subscriptionID: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO halyard_delivery_log (subscription_id, message_id, environment, commit_sha, attempt, at, status,
                duration, error, result)
            SELECT \(subscriptionID), \(attempt.messageID), \(attempt.environment), \(attempt.commit), \(attempt.attempt),
                \(attempt.at.timeIntervalSince1970), \(attempt.status), \(attempt.durationSeconds), \(attempt.error),
                \(attempt.result)
            WHERE EXISTS (SELECT 1 FROM halyard_subscription WHERE id = \(subscriptionID))
            """,
            logger: self.logger
        )
        try await connection.query(
            """
            DELETE FROM halyard_delivery_log WHERE subscription_id = \(subscriptionID) AND id <= (
                SELECT id FROM halyard_delivery_log WHERE subscription_id = \(subscriptionID)
                ORDER BY id DESC LIMIT 1 OFFSET \(StateDatabase.deliveryLogLimit)
            )
            """,
            logger: self.logger
        )
    }

    static func encoded(_ value: [String: String]) throws(NotifyError) -> Data {
        do {
            return try JSONEncoder.sorted.encode(value)
        } catch {
            throw .database("applied state", String(describing: error))
        }
    }
}

/// One row of the outbox as the claim reads it.
private struct Candidate: Sendable {
    var id: Int64
    var subscriptionID: String
    var commit: String
    var nextAttempt: Double
    var claimedUntil: Double?
    var recorded: String?
}

/// What enqueueing one change does to the outbox, worked out before it is written.
private struct EnqueueBatch {
    /// The subscriptions without a pending message for the environment: a new message each.
    var inserted: [String] = []
    /// The pending messages replaced by the coalesced one.
    var replaced: [Replacement] = []
    /// The pending messages whose net change is empty.
    var dropped: [Int64] = []
}

/// A pending message coalesced with a newer change (DESIGN §7).
private struct Replacement {
    var rowID: Int64
    var messageID: String
    var commit: String
    var change: String
    var body: ByteBuffer
    var fetchedAt: Double
    var nextAttempt: Double
}
