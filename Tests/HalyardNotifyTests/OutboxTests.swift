//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardSync
import HalyardTesting
import Testing

struct OutboxTests {
    let clock = ManualClock(now: Date(timeIntervalSince1970: 1_795_003_200))  // 2026-11-18T12:00:00Z

    func makeDatabase(path: String = Fixtures.databasePath()) throws -> StateDatabase {
        try StateDatabase(path: path, clock: self.clock)
    }

    func subscribe(_ database: StateDatabase, _ environments: [String], path: String = "/hook") throws -> Subscription {
        try database.createSubscription(url: "http://127.0.0.1:9\(path)", environments: environments, policy: .any)
    }

    @Test func testFreshDatabaseHasNoAppliedState() throws {
        let database = try self.makeDatabase()
        #expect(try database.appliedState() == nil)
        #expect(try database.pendingMessageCount() == 0)
    }

    @Test func testAppliedStateRoundTrips() throws {
        let path = Fixtures.databasePath()
        let state = AppliedState(
            commit: "c2",
            appliedAt: Date(timeIntervalSince1970: 1_795_000_000.5),
            lastChange: ["production": "c2", "staging": "c1"]
        )
        try self.makeDatabase(path: path).recordApplied(state, changes: [], fetchedAt: Date())
        #expect(try self.makeDatabase(path: path).appliedState() == state)
    }

    @Test func testOnlySubscribersOfTheChangedEnvironmentGetAMessage() throws {
        let database = try self.makeDatabase()
        let production = try self.subscribe(database, ["production"], path: "/p")
        let staging = try self.subscribe(database, ["staging"], path: "/s")
        let both = try self.subscribe(database, ["staging", "production"], path: "/b")
        let enqueued = try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [
                Fixtures.change("production", "c2", from: "c1", ["new-checkout": ("f1", "f2")]),
                Fixtures.change("staging", "c2", from: "c1", ["new-checkout": ("f1", "f1")]),  // not effective
            ],
            fetchedAt: self.clock.now()
        )
        #expect(enqueued == 2)
        let pending = try database.pendingMessages()
        #expect(Set(pending.map(\.subscriptionID)) == [production.id, both.id])
        #expect(!pending.contains { $0.subscriptionID == staging.id })
        #expect(pending.allSatisfy { $0.environment == "production" && $0.messageID.hasPrefix("msg_") })
        #expect(Set(pending.map(\.messageID)).count == 2)
    }

    @Test func testEmptyChangesEnqueueNothingButRecordTheCommit() throws {
        let database = try self.makeDatabase()
        _ = try self.subscribe(database, ["production"])
        let enqueued = try database.recordApplied(
            AppliedState(commit: "c2", appliedAt: self.clock.now(), lastChange: ["production": "c1"]),
            changes: [Fixtures.change("production", "c2", from: "c1", ["a": ("f", "f")]), Fixtures.change("production", "c2", from: "c1", [:])],
            fetchedAt: self.clock.now()
        )
        #expect(enqueued == 0)
        #expect(try database.pendingMessageCount() == 0)
        #expect(try database.appliedState()?.commit == "c2")
    }

    @Test func testBodyIsTheDocumentedJSON() throws {
        let database = try self.makeDatabase()
        _ = try self.subscribe(database, ["production"])
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["b": (nil, "1"), "a": (nil, "1"), "z": ("1", nil), "m": ("1", "2")])],
            fetchedAt: self.clock.now()
        )
        try database.storeFlagsURLs(base: "http://flags.internal:8080/")
        let message = try #require(try database.pendingMessages().first)
        let expected = """
            {"type":"flags.changed","timestamp":"2026-11-18T12:00:00Z","data":{"environment":"production","commit":"c2",\
            "previousCommit":"c1","added":["a","b"],"removed":["z"],"changed":["m"],\
            "flagsUrl":"http://flags.internal:8080/v1/environments/production/flags"}}
            """
        #expect(String(decoding: message.body, as: UTF8.self) == expected)
        #expect(message.enqueuedAt == self.clock.now())
        #expect(message.nextAttemptAt == self.clock.now())
        #expect(message.attempts == 0)
    }

    @Test func testFirstCommitHasNullPreviousCommit() throws {
        let database = try self.makeDatabase()
        _ = try self.subscribe(database, ["production"])
        try database.recordApplied(
            Fixtures.applied("c1"),
            changes: [Fixtures.change("production", "c1", from: nil, ["a": (nil, "1")])],
            fetchedAt: self.clock.now()
        )
        let body = try #require(try database.pendingMessages().first).body
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let data = try #require(json["data"] as? [String: Any])
        #expect(data["previousCommit"] is NSNull)
    }

    @Test func testCoalescingReplacesThePendingMessage() throws {
        let database = try self.makeDatabase()
        let subscription = try self.subscribe(database, ["production", "staging"])
        let firstFetch = self.clock.now()
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [
                Fixtures.change("production", "c2", from: "c1", ["x": (nil, "x1"), "y": ("y0", "y1"), "z": ("z0", nil)]),
                Fixtures.change("staging", "c2", from: "c1", ["s": (nil, "1")]),
            ],
            fetchedAt: firstFetch
        )
        let before = try #require(try database.pendingMessages().first { $0.environment == "production" })

        self.clock.advance(by: 30)
        let enqueued = try database.recordApplied(
            Fixtures.applied("c3"),
            changes: [Fixtures.change("production", "c3", from: "c2", ["x": ("x1", nil), "y": ("y1", "y2"), "w": (nil, "w1")])],
            fetchedAt: self.clock.now()
        )
        #expect(enqueued == 1)
        let pending = try database.pendingMessages(subscriptionID: subscription.id)
        #expect(pending.count == 2)  // production (coalesced) and staging (untouched)
        let after = try #require(pending.first { $0.environment == "production" })
        #expect(after.messageID != before.messageID)
        #expect(after.change.previousCommit == "c1")
        #expect(after.change.commit == "c3")
        #expect(after.change.added == ["w"])
        #expect(after.change.removed == ["z"])
        #expect(after.change.changed == ["y"])
        #expect(after.fetchedAt == firstFetch)
        #expect(after.enqueuedAt == before.enqueuedAt)  // the first enqueue time is kept (DESIGN §7)
        let data = try #require((try JSONSerialization.jsonObject(with: Data(after.body)) as? [String: Any])?["data"] as? [String: Any])
        #expect(data["previousCommit"] as? String == "c1")
        #expect(data["commit"] as? String == "c3")
        #expect(data["added"] as? [String] == ["w"])
        #expect(data["removed"] as? [String] == ["z"])
        #expect(data["changed"] as? [String] == ["y"])

        // Reverting everything leaves an empty net change: the message is dropped.
        let dropped = try database.recordApplied(
            Fixtures.applied("c4"),
            changes: [Fixtures.change("production", "c4", from: "c3", ["y": ("y2", "y0"), "w": ("w1", nil), "z": (nil, "z0")])],
            fetchedAt: self.clock.now()
        )
        #expect(dropped == 0)
        #expect(try database.pendingMessages(subscriptionID: subscription.id).map(\.environment) == ["staging"])
    }

    @Test func testDisabledSubscriptionsGetNothing() async throws {
        // A 410 disables a subscription; later changes enqueue nothing for it.
        let database = try StateDatabase(path: Fixtures.databasePath())
        let gone = try await Fixtures.withReceiver({ _, _ in .status(410) }) { receiver in
            let gone = try database.createSubscription(url: receiver.url("/gone"), environments: ["production"], policy: .any)
            try database.recordApplied(
                Fixtures.applied("c2"),
                changes: [Fixtures.change("production", "c2", from: "c1", ["x": (nil, "1")])],
                fetchedAt: Date()
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("subscription disabled") { try database.subscription(id: gone.id)?.disabled == true }
                }
            }
            return gone
        }
        #expect(try database.pendingMessageCount() == 0)
        let log = try database.deliveries(subscriptionID: gone.id)
        #expect(log.map(\.result) == ["disabled"])
        #expect(log.first?.status == 410)
        let enqueued = try database.recordApplied(
            Fixtures.applied("c3"),
            changes: [Fixtures.change("production", "c3", from: "c2", ["x": ("1", "2")])],
            fetchedAt: Date()
        )
        #expect(enqueued == 0)
    }

    @Test func testStaticSubscriptionDisabledBy410IsEnabledAgainAtStartUp() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        let secret = WebhookSigner.generateSecret()
        try await Fixtures.withReceiver({ _, _ in .status(410) }) { receiver in
            let config = [StaticSubscription(url: receiver.url("/gone"), environments: ["production"], secret: secret)]
            try database.replaceStaticSubscriptions(config)
            let id = try #require(try database.subscriptions().first?.id)
            try database.recordApplied(
                Fixtures.applied("c2"),
                changes: [Fixtures.change("production", "c2", from: "c1", ["x": (nil, "1")])],
                fetchedAt: Date()
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("subscription disabled") { try database.subscription(id: id)?.disabled == true }
                }
            }
            // The next start-up reads the config file again: it still lists the subscription.
            try database.replaceStaticSubscriptions(config)
            #expect(try database.subscription(id: id)?.disabled == false)
        }
    }
}
