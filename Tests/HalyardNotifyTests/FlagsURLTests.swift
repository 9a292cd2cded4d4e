//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardTesting
import Synchronization
import Testing

/// `flagsUrl`: the outbox stores the path, the deliverer puts the service's base URL (known once the server is bound)
/// in front of it; bodies stored whole by older versions are sent as they are.
@Suite(.timeLimit(.minutes(1)))
struct FlagsURLTests {
    private func enqueue(_ database: StateDatabase, flagsBaseURL: String? = nil) throws {
        let change = Fixtures.change("production", "c2", from: "c1", ["flag": ("1", "2")])
        try database.recordApplied(Fixtures.applied("c2"), changes: [change], fetchedAt: Date())
        if let flagsBaseURL {
            try database.storeFlagsURLs(base: flagsBaseURL)
        }
    }

    @Test func theOutboxStoresThePathAndTheDelivererCompletesItBeforeSending() async throws {
        try await Fixtures.withReceiver({ _, _ in .status(503) }) { receiver in
            let database = try StateDatabase(path: Fixtures.databasePath())
            _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database)
            let stored = String(decoding: try #require(try database.pendingMessages().first).body, as: UTF8.self)
            #expect(stored.contains(#""flagsUrl":"/v1/environments/production/flags""#))

            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    flagsBaseURL: { "http://flags.example:9000/" },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("an attempt") { !receiver.requests.isEmpty }
                }
            }
            let sent = try #require(receiver.requests.first)
            let data = try #require(sent.json?["data"] as? [String: Any])
            #expect(data["flagsUrl"] as? String == "http://flags.example:9000/v1/environments/production/flags")
            // The completed body is what the outbox holds now, so a retry (in another process too) sends these bytes.
            #expect(try #require(try database.pendingMessages().first).body == sent.body)
        }
    }

    @Test func aBodyStoredWithItsURLIsSentUnchanged() async throws {
        try await Fixtures.withReceiver { receiver in
            let database = try StateDatabase(path: Fixtures.databasePath())
            _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database, flagsBaseURL: "http://old.example:8080")
            let stored = try #require(try database.pendingMessages().first).body

            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    flagsBaseURL: { "http://new.example:9000" },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("the delivery") { try database.pendingMessageCount() == 0 }
                }
            }
            #expect(receiver.requests.map(\.body) == [stored])
        }
    }

    @Test func nothingIsSentBeforeTheBaseURLIsKnown() async throws {
        try await Fixtures.withReceiver { receiver in
            let database = try StateDatabase(path: Fixtures.databasePath())
            _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database)
            let base = Mutex<String?>(nil)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    flagsBaseURL: { base.withLock { $0 } },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await Fixtures.sleepToProveNothingMoreArrives()  // nothing is sent while the base URL is unknown
                    #expect(receiver.requests.isEmpty)
                    base.withLock { $0 = "http://127.0.0.1:4321" }
                    deliverer.wake()
                    try await eventually("the delivery") { try database.pendingMessageCount() == 0 }
                }
            }
            let sent = try #require(receiver.requests.first)
            let data = try #require(sent.json?["data"] as? [String: Any])
            #expect(data["flagsUrl"] as? String == "http://127.0.0.1:4321/v1/environments/production/flags")
        }
    }
}
