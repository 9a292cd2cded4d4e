//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import Synchronization

// MARK: - Batches (used by WebhookDeliverer)

extension StateDatabase {
    /// Stores the bodies of several messages in one transaction; a message replaced or removed meanwhile is left alone.
    public func storeCompletedBodies(_ bodies: [CompletedBody]) throws(NotifyError) {
        guard !bodies.isEmpty else { return }
        try self.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE outbox SET body = ? WHERE message_id = ?")
            for body in bodies {
                try statement.execute(arguments: [Data(body.body), body.messageID])
            }
        }
    }

    /// Applies several completions (``complete(_:attempt:outcome:)`` for each, in order) in one transaction.
    public func complete(_ completions: [OutboxCompletion]) throws(NotifyError) {
        guard !completions.isEmpty else { return }
        try self.writeOutbox { db in
            for completion in completions {
                try Self.apply(completion, in: db)
            }
        }
        self.inFlight.withLock { inFlight in
            for completion in completions {
                let message = completion.message
                inFlight.remove(Self.inFlightKey(subscriptionID: message.subscriptionID, environment: message.environment))
            }
        }
    }
}

extension StateDatabase {
    /// Removes, reschedules or disables as the completion's outcome says, and appends its attempt to the delivery log.
    static func apply(_ completion: OutboxCompletion, in db: Database) throws {
        let message = completion.message
        switch completion.outcome {
        case .delivered, .dead:
            try db.execute(sql: "DELETE FROM outbox WHERE message_id = ?", arguments: [message.messageID])
        case .retry(let date):
            try db.execute(
                sql: "UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE message_id = ?",
                arguments: [completion.attempt.attempt, date.timeIntervalSince1970, message.messageID]
            )
        case .gone:
            try db.execute(sql: "UPDATE subscription SET disabled = 1 WHERE id = ?", arguments: [message.subscriptionID])
            try db.execute(sql: "DELETE FROM outbox WHERE subscription_id = ?", arguments: [message.subscriptionID])
        }
        try Self.appendDelivery(completion.attempt, subscriptionID: message.subscriptionID, in: db)
    }
}
