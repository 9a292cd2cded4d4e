//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync

/// One attempt to deliver a webhook, as kept in a subscription's delivery log.
///
/// `GET /v1/subscriptions/{id}/deliveries` shows these so an operator can see why a receiver does not get its
/// refresh calls. Only the last 100 attempts of each subscription are kept.
public struct DeliveryAttempt: Sendable, Codable, Equatable {
    /// The `webhook-id` of the message.
    public var messageID: String
    /// The environment the message is about.
    public var environment: String
    /// The commit the message announces.
    public var commit: String
    /// The attempt number for this message, starting at 1.
    public var attempt: Int
    /// When the attempt started.
    public var at: Date
    /// The HTTP status of the response, or `nil` when there was none (timeout, connection refused).
    public var status: Int?
    /// How long the attempt took.
    public var durationSeconds: Double
    /// What went wrong, if anything.
    public var error: String?
    /// `delivered`, `failed` (will be retried), `dead` (given up after the maximum age) or `disabled` (410 Gone).
    public var result: String

    /// Creates a delivery attempt record.
    public init(
        messageID: String,
        environment: String,
        commit: String,
        attempt: Int,
        at: Date,
        status: Int?,
        durationSeconds: Double,
        error: String?,
        result: String
    ) {
        self.messageID = messageID
        self.environment = environment
        self.commit = commit
        self.attempt = attempt
        self.at = at
        self.status = status
        self.durationSeconds = durationSeconds
        self.error = error
        self.result = result
    }
}

/// A message waiting in the outbox, for status pages and tests.
///
/// The outbox holds at most one message per subscription and environment (newer changes are coalesced into it).
public struct PendingMessage: Sendable, Equatable {
    /// The `webhook-id`, the same on every retry.
    public var messageID: String
    /// The subscription the message goes to.
    public var subscriptionID: String
    /// The environment the message is about.
    public var environment: String
    /// The change the message announces.
    public var change: EnvironmentChange
    /// The exact request body, built when the message was enqueued.
    public var body: [UInt8]
    /// When the message was first enqueued: coalescing a newer commit into it keeps this time (the 24-hour limit
    /// counts from it), while the body's `timestamp` is that of the newest commit.
    public var enqueuedAt: Date
    /// When the commit that caused it was fetched.
    public var fetchedAt: Date
    /// How many attempts were made so far, including those made before newer commits were coalesced into it.
    public var attempts: Int
    /// The earliest time of the next attempt.
    public var nextAttemptAt: Date
}
