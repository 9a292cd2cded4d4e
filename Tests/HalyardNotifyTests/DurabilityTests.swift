//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardTesting
import Testing

/// Nothing is lost and nothing acknowledged is sent again across restarts.
@Suite(.timeLimit(.minutes(2)))
struct DurabilityTests {
    func enqueue(_ database: StateDatabase, commit: String, previous: String) throws {
        try database.recordApplied(
            Fixtures.applied(commit),
            changes: [Fixtures.change("production", commit, from: previous, ["flag": ("f-\(previous)", "f-\(commit)")])],
            fetchedAt: Date()
        )
    }

    /// Runs a fresh deliverer on a freshly opened database until `condition` holds.
    func deliver(path: String, until condition: @escaping (StateDatabase) throws -> Bool, before: (StateDatabase) throws -> Void = { _ in })
        async throws
    {
        let database = try StateDatabase(path: path)
        try before(database)
        try await Fixtures.withHTTPClient { client in
            let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
            try await Fixtures.withDeliverer(deliverer) {
                try await eventually("delivery") { try condition(database) }
            }
        }
    }

    @Test func testMessagesEnqueuedWithoutADelivererAreSentAfterReopening() async throws {
        let path = Fixtures.databasePath()
        try await Fixtures.withReceiver { receiver in
            let messageID: String
            do {
                let database = try StateDatabase(path: path)
                _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
                try self.enqueue(database, commit: "c2", previous: "c1")
                messageID = try #require(try database.pendingMessages().first).messageID
            }
            try await self.deliver(path: path) { try $0.pendingMessageCount() == 0 }
            try await Fixtures.sleepToProveNothingMoreArrives()
            #expect(receiver.requests.count == 1)
            #expect(receiver.requests.first?.headers["webhook-id"] == messageID)
            #expect(try StateDatabase(path: path).appliedState()?.commit == "c2")
        }
    }

    @Test func testAcknowledgedMessagesAreNotResentAfterRestart() async throws {
        let path = Fixtures.databasePath()
        try await Fixtures.withReceiver { receiver in
            try await self.deliver(path: path, until: { try $0.pendingMessageCount() == 0 }) { database in
                _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
                try self.enqueue(database, commit: "c2", previous: "c1")
            }
            #expect(receiver.requests.count == 1)

            // A new process: a new commit is applied; only its message is sent.
            try await self.deliver(path: path, until: { _ in receiver.requests.count >= 2 }) { database in
                try self.enqueue(database, commit: "c3", previous: "c2")
            }
            try await Fixtures.sleepToProveNothingMoreArrives()
            let requests = receiver.requests
            #expect(requests.count == 2)
            #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 2)
            #expect(requests.compactMap { ($0.json?["data"] as? [String: Any])?["commit"] as? String } == ["c2", "c3"])
        }
    }

    @Test func testAttemptInterruptedByShutdownIsResentWithTheSameID() async throws {
        let path = Fixtures.databasePath()
        try await Fixtures.withReceiver({ _, index in index == 0 ? .hang : .ok }) { receiver in
            // The first deliverer is stopped while its request hangs.
            try await self.deliver(path: path, until: { _ in receiver.requests.count == 1 }) { database in
                _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
                try self.enqueue(database, commit: "c2", previous: "c1")
            }
            let database = try StateDatabase(path: path)
            let pending = try #require(try database.pendingMessages().first)
            #expect(pending.attempts == 0)

            try await self.deliver(path: path) { try $0.pendingMessageCount() == 0 }
            let requests = receiver.requests
            #expect(requests.count == 2)
            #expect(requests.allSatisfy { $0.headers["webhook-id"] == pending.messageID })
            #expect(requests[0].body == requests[1].body)
            let log = try database.deliveries(subscriptionID: pending.subscriptionID)
            #expect(log.map(\.result) == ["delivered"])
        }
    }

    @Test func testGracefulShutdownFinishesTheRequestInFlight() async throws {
        let path = Fixtures.databasePath()
        try await Fixtures.withReceiver({ _, _ in TestReceiver.Reply(delay: .milliseconds(500)) }) { receiver in
            let database = try StateDatabase(path: path)
            _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database, commit: "c2", previous: "c1")
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withGracefulShutdown(of: deliverer) {
                    try await eventually("request started") { receiver.requests.count == 1 }
                }
            }
            // The graceful shutdown waited for the answer, so the message is acknowledged.
            #expect(try database.pendingMessageCount() == 0)
            #expect(receiver.requests.count == 1)
        }
    }
}
