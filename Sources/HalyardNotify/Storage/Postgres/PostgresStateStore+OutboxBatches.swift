//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresNIO

// MARK: - Batches (used by WebhookDeliverer)

extension PostgresStateStore {
    /// Stores the bodies of several messages in one statement; a message replaced or removed meanwhile is left alone.
    /// When a message id appears twice, the later body wins, as when they are stored one after the other.
    public func storeCompletedBodies(_ bodies: [CompletedBody]) async throws(NotifyError) {
        guard !bodies.isEmpty else { return }
        var latest: [String: Int] = [:]
        for (index, body) in bodies.enumerated() {
            latest[body.messageID] = index
        }
        let kept = bodies.indices.filter { latest[bodies[$0].messageID] == $0 }.map { bodies[$0] }
        let messageIDs = kept.map(\.messageID)
        let contents = kept.map { ByteBuffer(bytes: $0.body) }
        try await self.run { connection in
            try await connection.query(
                """
                UPDATE halyard_outbox o SET body = v.body
                FROM unnest(\(messageIDs)::text[], \(contents)::bytea[]) AS v(message_id, body)
                WHERE o.message_id = v.message_id
                """,
                logger: self.logger
            )
            return ()
        }
    }

    /// Applies several completions in one transaction, as ``complete(_:attempt:outcome:)`` would one after the other.
    ///
    /// The deliverer has at most one request in flight per subscription, so a group names each subscription once;
    /// then each kind of change is one statement for the whole group (claims released, messages removed, rescheduled,
    /// subscriptions disabled, attempts logged, logs trimmed). A group that names a subscription twice is applied one
    /// completion after the other, in the same transaction.
    public func complete(_ completions: [OutboxCompletion]) async throws(NotifyError) {
        guard !completions.isEmpty else { return }
        let subscriptions = completions.map(\.message.subscriptionID)
        guard completions.count > 1, Set(subscriptions).count == subscriptions.count else {
            try await self.transactionOnOutbox { connection in
                for completion in completions {
                    try await self.apply(completion, on: connection)
                }
            }
            return
        }
        let batch = CompletionBatch(completions)
        try await self.transactionOnOutbox { connection in
            if !batch.claims.isEmpty {
                try await connection.query(
                    "UPDATE halyard_outbox SET claim = NULL, claimed_until = NULL WHERE claim = ANY(\(batch.claims))",
                    logger: self.logger
                )
            }
            if !batch.removed.isEmpty {
                try await connection.query("DELETE FROM halyard_outbox WHERE message_id = ANY(\(batch.removed))", logger: self.logger)
            }
            if !batch.retried.isEmpty {
                try await connection.query(
                    """
                    UPDATE halyard_outbox o SET attempts = v.attempts, next_attempt_at = v.next_attempt_at
                    FROM unnest(\(batch.retried)::text[], \(batch.retryAttempts)::int8[], \(batch.retryTimes)::float8[])
                        AS v(message_id, attempts, next_attempt_at)
                    WHERE o.message_id = v.message_id
                    """,
                    logger: self.logger
                )
            }
            if !batch.gone.isEmpty {
                try await connection.query(
                    "UPDATE halyard_subscription SET disabled = true WHERE id = ANY(\(batch.gone))",
                    logger: self.logger
                )
                try await connection.query("DELETE FROM halyard_outbox WHERE subscription_id = ANY(\(batch.gone))", logger: self.logger)
            }
            try await self.appendDeliveries(batch.log, on: connection)
        }
    }

    /// Appends the attempts to their subscriptions' logs in their order (skipping subscriptions deleted meanwhile) and
    /// trims each of those logs to the last ``StateDatabase/deliveryLogLimit`` entries, in two statements.
    private func appendDeliveries(_ log: DeliveryLogRows, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO halyard_delivery_log (subscription_id, message_id, environment, commit_sha, attempt, at, status,
                duration, error, result)
            SELECT v.subscription_id, v.message_id, v.environment, v.commit_sha, v.attempt, v.at,
                CASE WHEN v.has_status THEN v.status END, v.duration, CASE WHEN v.has_error THEN v.error END, v.result
            FROM unnest(\(log.subscriptionIDs)::text[], \(log.messageIDs)::text[], \(log.environments)::text[],
                \(log.commits)::text[], \(log.attempts)::int8[], \(log.times)::float8[], \(log.hasStatus)::bool[],
                \(log.statuses)::int8[], \(log.durations)::float8[], \(log.hasError)::bool[], \(log.errors)::text[],
                \(log.results)::text[])
                WITH ORDINALITY AS v(subscription_id, message_id, environment, commit_sha, attempt, at, has_status, status,
                    duration, has_error, error, result, n)
            WHERE EXISTS (SELECT 1 FROM halyard_subscription s WHERE s.id = v.subscription_id)
            ORDER BY v.n
            """,
            logger: self.logger
        )
        try await connection.query(
            """
            DELETE FROM halyard_delivery_log d USING (
                SELECT s.id AS subscription_id, (
                    SELECT l.id FROM halyard_delivery_log l WHERE l.subscription_id = s.id
                    ORDER BY l.id DESC LIMIT 1 OFFSET \(StateDatabase.deliveryLogLimit)
                ) AS cutoff
                FROM unnest(\(Array(Set(log.subscriptionIDs)))::text[]) AS s(id)
            ) c
            WHERE d.subscription_id = c.subscription_id AND d.id <= c.cutoff
            """,
            logger: self.logger
        )
    }
}

/// A group of completions sorted into the statements that apply them, for a group naming each subscription once.
private struct CompletionBatch {
    /// The claims to release.
    var claims: [String] = []
    /// The messages delivered or dead.
    var removed: [String] = []
    /// The messages to try again, with their attempt counts and next attempt times.
    var retried: [String] = []
    var retryAttempts: [Int] = []
    var retryTimes: [Double] = []
    /// The subscriptions that answered 410 Gone.
    var gone: [String] = []
    /// Every attempt, for the delivery log.
    var log = DeliveryLogRows()

    init(_ completions: [OutboxCompletion]) {
        for completion in completions {
            let message = completion.message
            if let claim = message.claim { self.claims.append(claim) }
            switch completion.outcome {
            case .delivered, .dead:
                self.removed.append(message.messageID)
            case .retry(let date):
                self.retried.append(message.messageID)
                self.retryAttempts.append(completion.attempt.attempt)
                self.retryTimes.append(date.timeIntervalSince1970)
            case .gone:
                self.gone.append(message.subscriptionID)
            }
            self.log.append(completion.attempt, subscriptionID: message.subscriptionID)
        }
    }
}

/// Delivery-log entries as one array per column (PostgreSQL `unnest`); a missing status or error is marked by a flag,
/// as arrays of optionals are not encoded.
private struct DeliveryLogRows {
    var subscriptionIDs: [String] = []
    var messageIDs: [String] = []
    var environments: [String] = []
    var commits: [String] = []
    var attempts: [Int] = []
    var times: [Double] = []
    var hasStatus: [Bool] = []
    var statuses: [Int] = []
    var durations: [Double] = []
    var hasError: [Bool] = []
    var errors: [String] = []
    var results: [String] = []

    mutating func append(_ attempt: DeliveryAttempt, subscriptionID: String) {
        self.subscriptionIDs.append(subscriptionID)
        self.messageIDs.append(attempt.messageID)
        self.environments.append(attempt.environment)
        self.commits.append(attempt.commit)
        self.attempts.append(attempt.attempt)
        self.times.append(attempt.at.timeIntervalSince1970)
        self.hasStatus.append(attempt.status != nil)
        self.statuses.append(attempt.status ?? 0)
        self.durations.append(attempt.durationSeconds)
        self.hasError.append(attempt.error != nil)
        self.errors.append(attempt.error ?? "")
        self.results.append(attempt.result)
    }
}
