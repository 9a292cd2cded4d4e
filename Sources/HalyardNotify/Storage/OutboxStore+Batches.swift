//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// A pending message's body as it is first sent (`flagsUrl` completed), to be stored before it leaves
/// (``OutboxStore/storeCompletedBodies(_:)``).
public struct CompletedBody: Sendable {
    /// The message's `webhook-id`.
    public var messageID: String
    /// The body sent with every attempt of the message.
    public var body: [UInt8]

    /// Creates a completed body.
    public init(messageID: String, body: [UInt8]) {
        self.messageID = messageID
        self.body = body
    }
}

/// The outcome of one delivery attempt, to be applied to its message (``OutboxStore/complete(_:)``).
public struct OutboxCompletion: Sendable {
    /// The message the attempt sent.
    public var message: OutboxMessage
    /// The delivery-log entry of the attempt.
    public var attempt: DeliveryAttempt
    /// What happens to the message.
    public var outcome: DeliveryOutcome

    /// Creates a completion.
    public init(message: OutboxMessage, attempt: DeliveryAttempt, outcome: DeliveryOutcome) {
        self.message = message
        self.attempt = attempt
        self.outcome = outcome
    }
}

extension OutboxStore {
    /// Stores each body with ``storeCompletedBody(_:messageID:)``, one after the other.
    public func storeCompletedBodies(_ bodies: [CompletedBody]) async throws(NotifyError) {
        for body in bodies {
            try await self.storeCompletedBody(body.body, messageID: body.messageID)
        }
    }

    /// Applies each completion with ``complete(_:attempt:outcome:)``, in order.
    public func complete(_ completions: [OutboxCompletion]) async throws(NotifyError) {
        for completion in completions {
            try await self.complete(completion.message, attempt: completion.attempt, outcome: completion.outcome)
        }
    }
}
