//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation
import GRDB

// MARK: - API

extension StateDatabase {
    /// Creates a dynamic subscription with a generated id (`sub_…`) and secret (`whsec_…`).
    ///
    /// - Parameters:
    ///   - url: The receiver: http or https, with a host and no user info.
    ///   - environments: One or more environment names (duplicates are dropped).
    ///   - policy: Which hosts may be targeted.
    /// - Returns: The stored subscription, secret included (the API shows it once, in the 201 answer).
    /// - Throws: ``NotifyError/Code/invalidURL``, ``NotifyError/Code/hostNotAllowed``,
    ///   ``NotifyError/Code/invalidEnvironments`` or ``NotifyError/Code/database``.
    public func createSubscription(url: String, environments: [String], policy: SubscriptionPolicy) throws(NotifyError) -> Subscription {
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
        try self.write { db in try Self.insert(subscription, in: db) }
        return subscription
    }

    /// All subscriptions, static and dynamic, oldest first.
    public func subscriptions() throws(NotifyError) -> [Subscription] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM subscription ORDER BY created_at, id").map(Self.subscription(from:))
        }
    }

    /// The subscription with this id, or `nil`.
    public func subscription(id: String) throws(NotifyError) -> Subscription? {
        try self.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM subscription WHERE id = ?", arguments: [id]).map(Self.subscription(from:))
        }
    }

    /// Deletes a dynamic subscription, its pending messages and its delivery log.
    ///
    /// - Throws: ``NotifyError/Code/subscriptionNotFound``, ``NotifyError/Code/staticSubscriptionIsReadOnly`` for a
    ///   subscription of the config file, or ``NotifyError/Code/database``.
    public func deleteSubscription(id: String) throws(NotifyError) {
        try self.writeOutbox { db in
            guard let isStatic = try Bool.fetchOne(db, sql: "SELECT is_static FROM subscription WHERE id = ?", arguments: [id]) else {
                throw NotifyError.subscriptionNotFound(id)
            }
            guard !isStatic else { throw NotifyError.staticSubscriptionIsReadOnly(id) }
            try db.execute(sql: "DELETE FROM subscription WHERE id = ?", arguments: [id])
        }
    }

    /// Checks static subscriptions as ``replaceStaticSubscriptions(_:)`` does, without storing them.
    ///
    /// - Returns: The number of distinct subscriptions.
    /// - Throws: ``NotifyError`` naming the first invalid entry (URL, environments or secret).
    @discardableResult
    public static func validateStaticSubscriptions(_ subs: [StaticSubscription]) throws(NotifyError) -> Int {
        try Self.validatedStaticSubscriptions(subs).order.count
    }

    /// Makes the stored static subscriptions match the config file.
    ///
    /// A static subscription's id is derived from its URL and environments (`static_` and a short hash), so it stays
    /// the same across restarts and its pending messages and delivery log survive; changing the secret keeps the id.
    /// Subscriptions no longer in the file are removed with their pending messages. A static subscription disabled by a
    /// `410 Gone` is enabled again, since the config file still lists it.
    ///
    /// - Throws: ``NotifyError`` naming the first invalid entry (URL, environments or secret); nothing is changed then.
    public func replaceStaticSubscriptions(_ subs: [StaticSubscription]) throws(NotifyError) {
        let (wanted, order) = try Self.validatedStaticSubscriptions(subs)
        let now = self.clock.now().storable
        try self.writeOutbox { db in
            let existing = Set(try String.fetchAll(db, sql: "SELECT id FROM subscription WHERE is_static = 1"))
            for id in existing where wanted[id] == nil {
                try db.execute(sql: "DELETE FROM subscription WHERE id = ?", arguments: [id])
            }
            for id in order {
                guard let sub = wanted[id] else { continue }
                if existing.contains(id) {
                    try db.execute(
                        sql: "UPDATE subscription SET url = ?, environments = ?, secret = ?, disabled = 0 WHERE id = ?",
                        arguments: [sub.url, try Self.encodeEnvironments(sub.environments), sub.secret, id]
                    )
                } else {
                    try Self.insert(
                        Subscription(
                            id: id,
                            url: sub.url,
                            environments: sub.environments,
                            secret: sub.secret,
                            createdAt: now,
                            disabled: false,
                            isStatic: true
                        ),
                        in: db
                    )
                }
            }
        }
    }

    /// The delivery log of a subscription, newest first. Only the last 100 attempts are kept.
    ///
    /// - Throws: ``NotifyError/Code/subscriptionNotFound`` or ``NotifyError/Code/database``.
    public func deliveries(subscriptionID: String, limit: Int = 100) throws(NotifyError) -> [DeliveryAttempt] {
        try self.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM subscription WHERE id = ?", arguments: [subscriptionID]) != nil else {
                throw NotifyError.subscriptionNotFound(subscriptionID)
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM delivery_log WHERE subscription_id = ? ORDER BY id DESC LIMIT ?",
                arguments: [subscriptionID, max(0, limit)]
            ).map { row in
                DeliveryAttempt(
                    messageID: row["message_id"],
                    environment: row["environment"],
                    commit: row["commit_sha"],
                    attempt: row["attempt"],
                    at: Date(timeIntervalSince1970: row["at"]),
                    status: row["status"],
                    durationSeconds: row["duration"],
                    error: row["error"],
                    result: row["result"]
                )
            }
        }
    }
}

// MARK: - Internals

extension StateDatabase {
    /// Checks the static subscriptions of the config file and keys them by their derived id, in file order (a
    /// duplicate keeps the last entry); shared by every store.
    ///
    /// - Throws: ``NotifyError`` naming the first invalid entry (URL, environments or secret).
    static func validatedStaticSubscriptions(
        _ subs: [StaticSubscription]
    ) throws(NotifyError) -> (wanted: [String: StaticSubscription], order: [String]) {
        var wanted: [String: StaticSubscription] = [:]
        var order: [String] = []
        for sub in subs {
            try SubscriptionValidation.validateURL(sub.url, policy: .any)
            var sub = sub
            sub.environments = try SubscriptionValidation.validateEnvironments(sub.environments)
            do {
                _ = try WebhookSigner(secret: sub.secret)
            } catch {
                throw .invalidSecret(sub.url, reason: "the secret must be \"whsec_\" followed by base64")
            }
            let id = Self.staticID(url: sub.url, environments: sub.environments)
            if wanted.updateValue(sub, forKey: id) == nil {
                order.append(id)
            }
        }
        return (wanted, order)
    }

    /// How many delivery attempts are kept per subscription.
    static let deliveryLogLimit = 100

    /// `static_` and the first 16 hex digits of SHA-256 over the URL and the sorted environments.
    static func staticID(url: String, environments: [String]) -> String {
        let digest = SHA256.hash(data: Array((url + "\n" + environments.sorted().joined(separator: ",")).utf8))
        return "static_" + digest.prefix(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func insert(_ subscription: Subscription, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO subscription (id, url, environments, secret, created_at, disabled, is_static)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                subscription.id, subscription.url, try Self.encodeEnvironments(subscription.environments), subscription.secret,
                subscription.createdAt.timeIntervalSince1970, subscription.disabled, subscription.isStatic,
            ]
        )
    }

    static func subscription(from row: Row) throws -> Subscription {
        Subscription(
            id: row["id"],
            url: row["url"],
            environments: try Self.decodeEnvironments(row["environments"]),
            secret: row["secret"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            disabled: row["disabled"],
            isStatic: row["is_static"]
        )
    }

    static func encodeEnvironments(_ environments: [String]) throws -> String {
        String(decoding: try JSONEncoder.sorted.encode(environments), as: UTF8.self)
    }

    static func decodeEnvironments(_ json: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }

    /// Appends an attempt to a subscription's log (unless the subscription was deleted meanwhile) and trims the log.
    static func appendDelivery(_ attempt: DeliveryAttempt, subscriptionID: String, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO delivery_log (subscription_id, message_id, environment, commit_sha, attempt, at, status, duration, error, result)
                SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscription WHERE id = ?)
                """,
            arguments: [
                subscriptionID, attempt.messageID, attempt.environment, attempt.commit, attempt.attempt,
                attempt.at.timeIntervalSince1970, attempt.status, attempt.durationSeconds, attempt.error, attempt.result,
                subscriptionID,
            ]
        )
        try db.execute(
            sql: """
                DELETE FROM delivery_log WHERE subscription_id = ? AND id <= (
                    SELECT id FROM delivery_log WHERE subscription_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?
                )
                """,
            arguments: [subscriptionID, subscriptionID, Self.deliveryLogLimit]
        )
    }
}
