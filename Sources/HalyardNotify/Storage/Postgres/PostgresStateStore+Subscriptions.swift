//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresNIO

extension PostgresStateStore {
    /// Creates a dynamic subscription with a generated id (`sub_…`) and secret (`whsec_…`); used by every replica at
    /// once, since they share this database.
    ///
    /// - Throws: ``NotifyError/Code/invalidURL``, ``NotifyError/Code/hostNotAllowed``,
    ///   ``NotifyError/Code/invalidEnvironments`` or ``NotifyError/Code/database``.
    public func createSubscription(url: String, environments: [String], policy: SubscriptionPolicy) async throws(NotifyError) -> Subscription {
        try SubscriptionValidation.validateURL(url, policy: policy)
        let environments = try SubscriptionValidation.validateEnvironments(environments)
        let subscription = Subscription(
            id: RandomID.make(prefix: "sub_"),
            url: url,
            environments: environments,
            secret: WebhookSigner.generateSecret(),
            createdAt: self.clock.now().storable,
            disabled: false,
            isStatic: false
        )
        try await self.run { connection in
            try await self.insert(subscription, on: connection)
        }
        return subscription
    }

    /// All subscriptions, static and dynamic, oldest first.
    public func subscriptions() async throws(NotifyError) -> [Subscription] {
        try await self.run { connection in
            try await self.subscriptions(
                from: connection.query("SELECT \(unescaped: Self.subscriptionColumns) FROM halyard_subscription ORDER BY created_at, id", logger: self.logger)
            )
        }
    }

    /// The subscription with this id, or `nil`.
    public func subscription(id: String) async throws(NotifyError) -> Subscription? {
        try await self.run { connection in
            try await self.subscriptions(
                from: connection.query("SELECT \(unescaped: Self.subscriptionColumns) FROM halyard_subscription WHERE id = \(id)", logger: self.logger)
            ).first
        }
    }

    /// Deletes a dynamic subscription, its pending messages and its delivery log.
    ///
    /// - Throws: ``NotifyError/Code/subscriptionNotFound``, ``NotifyError/Code/staticSubscriptionIsReadOnly`` or
    ///   ``NotifyError/Code/database``.
    public func deleteSubscription(id: String) async throws(NotifyError) {
        try await self.transactionOnOutbox { connection in
            let rows = try await connection.query("SELECT is_static FROM halyard_subscription WHERE id = \(id) FOR UPDATE", logger: self.logger)
                .collect()
            guard let row = rows.first else { throw NotifyError.subscriptionNotFound(id) }
            guard try !row.decode(Bool.self) else { throw NotifyError.staticSubscriptionIsReadOnly(id) }
            try await connection.query("DELETE FROM halyard_subscription WHERE id = \(id)", logger: self.logger)
            return ()
        }
    }

    /// Makes the stored static subscriptions match the config file, as ``StateDatabase/replaceStaticSubscriptions(_:)``
    /// does; replicas starting together take turns (a transaction-level advisory lock).
    ///
    /// - Throws: ``NotifyError`` naming the first invalid entry; nothing is changed then.
    public func replaceStaticSubscriptions(_ subs: [StaticSubscription]) async throws(NotifyError) {
        let (wanted, order) = try StateDatabase.validatedStaticSubscriptions(subs)
        let now = self.clock.now().storable
        try await self.transactionOnOutbox { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.staticSubscriptionsLockKey))", logger: self.logger)
            var existing: Set<String> = []
            for try await id in try await connection.query("SELECT id FROM halyard_subscription WHERE is_static", logger: self.logger)
                .decode(String.self)
            {
                existing.insert(id)
            }
            for id in existing where wanted[id] == nil {
                try await connection.query("DELETE FROM halyard_subscription WHERE id = \(id)", logger: self.logger)
            }
            for id in order {
                guard let sub = wanted[id] else { continue }
                if existing.contains(id) {
                    try await connection.query(
                        """
                        UPDATE halyard_subscription SET url = \(sub.url),
                            environments = \(try StateDatabase.encodeEnvironments(sub.environments)), secret = \(sub.secret),
                            disabled = false
                        WHERE id = \(id)
                        """,
                        logger: self.logger
                    )
                } else {
                    try await self.insert(
                        Subscription(id: id, url: sub.url, environments: sub.environments, secret: sub.secret, createdAt: now, isStatic: true),
                        on: connection
                    )
                }
            }
            return ()
        }
    }

    /// The delivery log of a subscription, newest first. Only the last 100 attempts are kept.
    ///
    /// - Throws: ``NotifyError/Code/subscriptionNotFound`` or ``NotifyError/Code/database``.
    public func deliveries(subscriptionID: String, limit: Int = 100) async throws(NotifyError) -> [DeliveryAttempt] {
        try await self.run { connection in
            let exists = try await connection.query("SELECT 1 FROM halyard_subscription WHERE id = \(subscriptionID)", logger: self.logger)
                .collect()
            guard !exists.isEmpty else { throw NotifyError.subscriptionNotFound(subscriptionID) }
            let rows = try await connection.query(
                """
                SELECT message_id, environment, commit_sha, attempt, at, status, duration, error, result
                FROM halyard_delivery_log WHERE subscription_id = \(subscriptionID) ORDER BY id DESC LIMIT \(max(0, limit))
                """,
                logger: self.logger
            )
            var attempts: [DeliveryAttempt] = []
            for try await (messageID, environment, commit, attempt, at, status, duration, error, result) in rows.decode(
                (String, String, String, Int, Double, Int?, Double, String?, String).self
            ) {
                attempts.append(
                    DeliveryAttempt(
                        messageID: messageID,
                        environment: environment,
                        commit: commit,
                        attempt: attempt,
                        at: Date(timeIntervalSince1970: at),
                        status: status,
                        durationSeconds: duration,
                        error: error,
                        result: result
                    )
                )
            }
            return attempts
        }
    }

    // MARK: - Internals

    private static let subscriptionColumns = "id, url, environments, secret, created_at, disabled, is_static"

    private func insert(_ subscription: Subscription, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO halyard_subscription (id, url, environments, secret, created_at, disabled, is_static)
            VALUES (\(subscription.id), \(subscription.url), \(try StateDatabase.encodeEnvironments(subscription.environments)),
                \(subscription.secret), \(subscription.createdAt.timeIntervalSince1970), \(subscription.disabled), \(subscription.isStatic))
            """,
            logger: self.logger
        )
    }

    private func subscriptions(from rows: PostgresRowSequence) async throws -> [Subscription] {
        var subscriptions: [Subscription] = []
        for try await (id, url, environments, secret, createdAt, disabled, isStatic) in rows.decode(
            (String, String, String, String, Double, Bool, Bool).self
        ) {
            subscriptions.append(
                Subscription(
                    id: id,
                    url: url,
                    environments: try StateDatabase.decodeEnvironments(environments),
                    secret: secret,
                    createdAt: Date(timeIntervalSince1970: createdAt),
                    disabled: disabled,
                    isStatic: isStatic
                )
            )
        }
        return subscriptions
    }
}
