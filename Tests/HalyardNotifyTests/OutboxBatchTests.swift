//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import HalyardTesting
import Testing

@testable import HalyardNotify

/// The batched writes of the outbox (one statement per kind of change with PostgreSQL, one transaction with SQLite):
/// they must leave the store exactly as the same writes one after the other would (DESIGN §7).
extension StateStoreTests {
    @Test(arguments: StoreKind.allCases)
    func oneEnqueueInsertsCoalescesAndDropsForManySubscribersAtOnce(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let coalescing = try await self.subscribe(store, ["production"], path: "/coalescing")
            let cancelling = try await self.subscribe(store, ["production"], path: "/cancelling")
            // Pending for both: x added. The second one's message has failed once and waits for its retry.
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [Fixtures.change("production", "c2", from: "c1", ["x": (nil, "1")])],
                fetchedAt: harness.clock.now()
            )
            let cancelled = try #require(try await store.pendingMessages(subscriptionID: cancelling.id).first)
            // Only that one is claimed (and completed): a message being sent is never dropped by a change that
            // cancels it out (the test below).
            let claimed = try await store.claimDueMessages(
                now: harness.clock.now(), busySubscriptions: [coalescing.id], limit: 10, lease: .seconds(60), servedCommit: nil
            ).messages
            try await store.complete(
                try #require(claimed.first { $0.subscriptionID == cancelling.id }),
                attempt: self.attempt(self.outboxMessage(cancelled), at: harness.clock.now(), status: 503, result: "failed"),
                outcome: .retry(at: harness.clock.now().addingTimeInterval(60))
            )
            let fresh = try await self.subscribe(store, ["production"], path: "/fresh")
            harness.clock.advance(by: 5)
            // c3 removes x and adds z: the two pending messages are replaced (c1 → c3: z added; the retry keeps its
            // schedule and attempts), the fresh subscriber gets a new message (c2 → c3), all in one enqueue.
            let enqueued = try await store.recordApplied(
                Fixtures.applied("c3"),
                changes: [Fixtures.change("production", "c3", from: "c2", ["x": ("1", nil), "z": (nil, "1")])],
                fetchedAt: harness.clock.now()
            )
            #expect(enqueued == 3)
            let pending = try await store.pendingMessages(subscriptionID: nil)
            #expect(pending.count == 3)
            let byID = Dictionary(uniqueKeysWithValues: pending.map { ($0.subscriptionID, $0) })
            let first = try #require(byID[coalescing.id])
            #expect(first.change.previousCommit == "c1" && first.change.commit == "c3")
            #expect(first.change.added == ["z"] && first.change.removed.isEmpty)
            let retried = try #require(byID[cancelling.id])
            #expect(retried.messageID != cancelled.messageID)
            #expect(retried.attempts == 1 && retried.nextAttemptAt == cancelled.enqueuedAt.addingTimeInterval(60))
            #expect(retried.enqueuedAt == cancelled.enqueuedAt)
            let new = try #require(byID[fresh.id])
            #expect(new.change.previousCommit == "c2" && new.attempts == 0 && new.enqueuedAt == harness.clock.now())
            #expect(new.change.removed == ["x"] && new.change.added == ["z"])

            // c4 takes z back out: the two older subscribers' messages (c1 → c4) are empty and dropped, the fresh one's
            // (c2 → c4: x removed) is replaced.
            let replaced = try await store.recordApplied(
                Fixtures.applied("c4"),
                changes: [Fixtures.change("production", "c4", from: "c3", ["z": ("1", nil)])],
                fetchedAt: harness.clock.now()
            )
            #expect(replaced == 1)
            let left = try await store.pendingMessages(subscriptionID: nil)
            #expect(left.map(\.subscriptionID) == [fresh.id])
            #expect(left.first?.change.removed == ["x"] && left.first?.change.added == [])
        }
    }

    /// A message being sent right now may reach its subscriber: a change that cancels it out must then not drop it,
    /// or the subscriber keeps what that message told it. It is replaced by the cancelling change alone; a message
    /// that is only waiting is still dropped (DESIGN §7).
    @Test(arguments: StoreKind.allCases)
    func aChangeThatCancelsAMessageBeingSentReplacesItInsteadOfDroppingIt(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let sending = try await self.subscribe(store, ["production"], path: "/sending")
            let waiting = try await self.subscribe(store, ["production"], path: "/waiting")
            // An override switches x on at c1: a message for both subscribers.
            try await store.recordApplied(
                Fixtures.applied("c1"),
                changes: [Fixtures.change("production", "c1", from: "c1", ["x": ("off", "on")])],
                fetchedAt: harness.clock.now()
            )
            // The deliverer claims the first subscriber's message and is sending it; the second one's waits.
            let claimed = try await store.claimDueMessages(
                now: harness.clock.now(), busySubscriptions: [waiting.id], limit: 10, lease: .seconds(60), servedCommit: nil
            ).messages
            let inFlight = try #require(claimed.first { $0.subscriptionID == sending.id })
            // The override ends before that attempt is recorded: x is switched back off.
            let enqueued = try await store.recordApplied(
                Fixtures.applied("c1"),
                changes: [Fixtures.change("production", "c1", from: "c1", ["x": ("on", "off")])],
                fetchedAt: harness.clock.now()
            )
            let pending = try await store.pendingMessages(subscriptionID: nil)
            #expect(pending.map(\.subscriptionID) == [sending.id], "\(pending)")
            #expect(enqueued == 1)
            let replacement = try #require(pending.first)
            #expect(replacement.messageID != inFlight.messageID)
            #expect(replacement.change.changed == ["x"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func batchedBodiesAreStoredTheLaterOfTwoWinsAndAGoneMessageIsLeftAlone(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let first = try await self.subscribe(store, ["production"], path: "/1")
            let second = try await self.subscribe(store, ["production"], path: "/2")
            let untouched = try await self.subscribe(store, ["production"], path: "/3")
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let pending = Dictionary(uniqueKeysWithValues: try await store.pendingMessages(subscriptionID: nil).map { ($0.subscriptionID, $0) })
            let firstID = try #require(pending[first.id]).messageID
            let secondID = try #require(pending[second.id]).messageID
            try await store.storeCompletedBodies([
                CompletedBody(messageID: firstID, body: Array("early".utf8)),
                CompletedBody(messageID: secondID, body: Array("second".utf8)),
                CompletedBody(messageID: "msg_gone", body: Array("nobody".utf8)),
                CompletedBody(messageID: firstID, body: Array("late".utf8)),
            ])
            let after = Dictionary(uniqueKeysWithValues: try await store.pendingMessages(subscriptionID: nil).map { ($0.subscriptionID, $0) })
            #expect(after.count == 3)
            #expect(after[first.id]?.body == Array("late".utf8))
            #expect(after[second.id]?.body == Array("second".utf8))
            #expect(after[untouched.id]?.body == pending[untouched.id]?.body)
            try await store.storeCompletedBodies([])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aGroupOfCompletionsAppliesEachOutcomeAndLogsEveryAttempt(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            var subscriptions: [Subscription] = []
            for (index, environments) in [["production"], ["production"], ["production"], ["production", "staging"], ["production"]].enumerated() {
                subscriptions.append(try await self.subscribe(store, environments, path: "/\(index)"))
                harness.clock.advance(by: 1)
            }
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1"), self.change("staging", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let now = harness.clock.now()
            let claimed = try await self.claim(store, now: now)
            let bySubscription = Dictionary(uniqueKeysWithValues: claimed.map { ($0.subscriptionID, $0) })
            #expect(bySubscription.count == 5)
            let delivered = try #require(bySubscription[subscriptions[0].id])
            let retried = try #require(bySubscription[subscriptions[1].id])
            let dead = try #require(bySubscription[subscriptions[2].id])
            let gone = try #require(bySubscription[subscriptions[3].id])
            let unanswered = try #require(bySubscription[subscriptions[4].id])
            let retryAt = now.addingTimeInterval(90)
            var noAnswer = self.attempt(unanswered, at: now, status: nil, result: "failed")
            noAnswer.error = "connection refused"
            try await store.complete([
                OutboxCompletion(message: delivered, attempt: self.attempt(delivered, at: now, result: "delivered"), outcome: .delivered),
                OutboxCompletion(
                    message: retried,
                    attempt: self.attempt(retried, at: now, status: 503, result: "failed"),
                    outcome: .retry(at: retryAt)
                ),
                OutboxCompletion(message: dead, attempt: self.attempt(dead, at: now, status: 500, result: "dead"), outcome: .dead),
                OutboxCompletion(message: gone, attempt: self.attempt(gone, at: now, status: 410, result: "disabled"), outcome: .gone),
                OutboxCompletion(message: unanswered, attempt: noAnswer, outcome: .retry(at: retryAt)),
            ])

            let pending = try await store.pendingMessages(subscriptionID: nil)
            // The gone subscription's staging message went with it; the two retries wait, their claims released.
            #expect(pending.map(\.messageID).sorted() == [retried.messageID, unanswered.messageID].sorted())
            #expect(pending.allSatisfy { $0.attempts == 1 && $0.nextAttemptAt == retryAt })
            #expect(try await store.subscription(id: subscriptions[3].id)?.disabled == true)
            #expect(try await self.claim(store, now: now).isEmpty)
            #expect(try await self.claim(store, now: retryAt).map(\.messageID).sorted() == [retried.messageID, unanswered.messageID].sorted())

            let logs = try await subscriptions.asyncMap { try await store.deliveries(subscriptionID: $0.id, limit: 10) }
            #expect(logs.map { $0.map(\.result) } == [["delivered"], ["failed"], ["dead"], ["disabled"], ["failed"]])
            #expect(logs.map { $0.first?.status } == [204, 503, 500, 410, nil])
            #expect(logs[4].first?.error == "connection refused")
            #expect(logs[0].first?.error == nil)
            #expect(logs[1].first?.messageID == retried.messageID && logs[1].first?.commit == "c2" && logs[1].first?.attempt == 1)
            try await store.complete([])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func groupsOfCompletionsKeepTheLastHundredAttemptsOfEachSubscription(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let first = try await self.subscribe(store, ["production"], path: "/1")
            let second = try await self.subscribe(store, ["production"], path: "/2")
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            var messages = try await self.claim(store, now: harness.clock.now())
            #expect(messages.count == 2)
            for round in 1...105 {
                let at = harness.clock.now().addingTimeInterval(Double(round))
                try await store.complete(
                    messages.map { message in
                        OutboxCompletion(
                            message: message,
                            attempt: self.attempt(message, at: at, status: 503, result: "failed", number: round),
                            outcome: .retry(at: at)
                        )
                    }
                )
                messages = try await self.claim(store, now: at)
                #expect(messages.count == 2)
            }
            for subscription in [first, second] {
                let log = try await store.deliveries(subscriptionID: subscription.id, limit: 200)
                #expect(log.count == 100)
                #expect(log.first?.attempt == 105 && log.last?.attempt == 6)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aGroupNamingOneSubscriptionTwiceIsAppliedInOrder(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let subscription = try await self.subscribe(store, ["production", "staging"])
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1"), self.change("staging", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let messages = try await store.pendingMessages(subscriptionID: subscription.id).map(self.outboxMessage)
            #expect(messages.count == 2)
            let now = harness.clock.now()
            try await store.complete([
                OutboxCompletion(
                    message: messages[0],
                    attempt: self.attempt(messages[0], at: now, status: 503, result: "failed"),
                    outcome: .retry(at: now)
                ),
                OutboxCompletion(message: messages[1], attempt: self.attempt(messages[1], at: now, result: "delivered"), outcome: .delivered),
            ])
            #expect(try await store.pendingMessages(subscriptionID: nil).map(\.messageID) == [messages[0].messageID])
            #expect(try await store.deliveries(subscriptionID: subscription.id, limit: 10).map(\.result) == ["delivered", "failed"])
        }
    }

    /// A pending message as the deliverer would hold it (unclaimed).
    func outboxMessage(_ pending: PendingMessage) -> OutboxMessage {
        OutboxMessage(
            messageID: pending.messageID,
            subscriptionID: pending.subscriptionID,
            url: "http://127.0.0.1:9/hook",
            secret: "whsec_dGVzdA==",
            environment: pending.environment,
            commit: pending.change.commit,
            body: pending.body,
            enqueuedAt: pending.enqueuedAt,
            fetchedAt: pending.fetchedAt,
            attempts: pending.attempts
        )
    }
}

extension Array {
    /// The results of `transform` for each element, in order, one after the other.
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self {
            results.append(try await transform(element))
        }
        return results
    }
}

// MARK: - Start-up while PostgreSQL is down, and the claim lease

extension StateStoreTests {
    @Test func aStoreNeverReachedAnswersUnavailableAtOnceWithTheReason() async throws {
        // Port 1 on loopback: nothing listens there. Without the gate, the pool would wait for the server forever.
        let location = try PostgresLocation(url: "postgres://halyard@127.0.0.1:1/halyard?sslmode=disable")
        let store = PostgresStateStore(location: location, password: nil, logger: Fixtures.logger)
        defer { store.close() }
        #expect(try await store.prepareOnce(staticSubscriptions: []) == false)
        #expect(!store.isReady)
        let error = await #expect(throws: NotifyError.self) { _ = try await store.subscriptions() }
        #expect(error?.code == .unavailable)
        #expect(error?.isClientError == false)
        #expect(error?.message.contains("refused") == true, "\(String(describing: error))")
        await #expect(throws: NotifyError.self) { _ = try await store.acquirePublisherLock() }
        #expect(store.health.reachable == false)
        #expect(store.health.lastError?.contains("refused") == true, "\(String(describing: store.health.lastError))")
    }

    @Test func aStorePreparedOnceItsServerIsUpMigratesAndStoresTheStaticSubscriptions() async throws {
        let postgres = try PostgresTestServer.startPrivateCluster()
        defer { postgres.stop() }
        try postgres.pause()
        let store = PostgresStateStore(location: try PostgresLocation(url: postgres.url), password: nil, logger: Fixtures.logger)
        defer { store.close() }
        let subscription = StaticSubscription(url: "http://127.0.0.1:9/static", environments: ["production"], secret: "whsec_dGVzdHNlY3JldA==")
        #expect(try await store.prepareOnce(staticSubscriptions: [subscription]) == false)
        #expect(!store.isReady && !store.health.reachable)
        try postgres.resume()
        try await eventually("the store is prepared once the server is up") {
            try await store.prepareOnce(staticSubscriptions: [subscription])
        }
        #expect(store.isReady && store.health.reachable)
        #expect(try await store.subscriptions().map(\.url) == ["http://127.0.0.1:9/static"])
    }

    @Test func theDelivererClaimsForItsConfiguredLease() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let store = try await harness.open()
            let other = try await harness.open()
            let release = AsyncStream<Void>.makeStream()
            try await Fixtures.withReceiver({ _, _ in
                for await _ in release.stream { break }
                return .ok
            }) { receiver in
                _ = try await store.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
                try await store.recordApplied(
                    Fixtures.applied("c2"),
                    changes: [self.change("production", "c2", from: "c1")],
                    fetchedAt: harness.clock.now()
                )
                try await Fixtures.withHTTPClient { client in
                    var configuration = WebhookDeliverer.Configuration.loopback
                    configuration.claimLease = .seconds(7)
                    let deliverer = WebhookDeliverer(
                        database: store,
                        httpClient: client,
                        configuration: configuration,
                        clock: harness.clock,
                        logger: Fixtures.logger
                    )
                    try await Fixtures.withDeliverer(deliverer) {
                        try await eventually("the message is being sent") { receiver.requests.count == 1 }
                        let now = harness.clock.now()
                        let during = try await other.claimDueMessages(
                            now: now,
                            busySubscriptions: [],
                            limit: 10,
                            lease: .seconds(60),
                            servedCommit: nil
                        )
                        #expect(during.messages.isEmpty)
                        #expect(during.nextDue == now.addingTimeInterval(7))
                        release.continuation.finish()
                        try await eventually("the message is delivered") { try await store.pendingMessageCount() == 0 }
                    }
                }
            }
        }
    }
}
