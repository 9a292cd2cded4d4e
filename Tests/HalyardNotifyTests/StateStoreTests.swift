//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import HalyardTesting
import Synchronization
import Testing

@testable import HalyardNotify

/// What every ``StateStore`` promises, checked against SQLite and PostgreSQL alike: the applied state, the outbox
/// written with it, coalescing, subscriptions, claims and the delivery log (DESIGN §7, §10).
@Suite struct StateStoreTests {
    func subscribe(_ store: any StateStore, _ environments: [String], path: String = "/hook") async throws -> Subscription {
        try await store.createSubscription(url: "http://127.0.0.1:9\(path)", environments: environments, policy: .any)
    }

    func change(_ environment: String, _ commit: String, from previous: String?, _ flag: String = "x") -> EnvironmentChange {
        Fixtures.change(environment, commit, from: previous, [flag: (previous == nil ? nil : "1", commit)])
    }

    @Test(arguments: StoreKind.allCases)
    func freshStoreHasNoStateAndAnEmptyOutbox(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            #expect(try await store.appliedState() == nil)
            #expect(try await store.pendingMessageCount() == 0)
            #expect(try await store.subscriptions().isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func appliedStateRoundTripsThroughARestart(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let state = AppliedState(
                commit: "c2",
                appliedAt: Date(timeIntervalSince1970: 1_795_000_000.25),
                lastChange: ["production": "c2", "staging": "c1"]
            )
            try await harness.open().recordApplied(state, changes: [], fetchedAt: harness.clock.now())
            #expect(try await harness.open().appliedState() == state)
            let next = AppliedState(commit: "c3", appliedAt: state.appliedAt.addingTimeInterval(1), lastChange: [:])
            try await harness.open().recordApplied(next, changes: [], fetchedAt: harness.clock.now())
            #expect(try await harness.open().appliedState() == next)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func recordingEnqueuesForTheSubscribersOfEachChangedEnvironment(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let production = try await self.subscribe(store, ["production"], path: "/p")
            let staging = try await self.subscribe(store, ["staging"], path: "/s")
            let both = try await self.subscribe(store, ["staging", "production"], path: "/b")
            let enqueued = try await store.recordApplied(
                Fixtures.applied("c2", at: harness.clock.now()),
                changes: [
                    Fixtures.change("production", "c2", from: "c1", ["new-checkout": ("f1", "f2")]),
                    Fixtures.change("staging", "c2", from: "c1", ["new-checkout": ("f1", "f1")]),  // not effective
                ],
                fetchedAt: harness.clock.now()
            )
            #expect(enqueued == 2)
            // The commit and its messages were written together: a restarted store sees both.
            let reopened = try await harness.open()
            #expect(try await reopened.appliedState()?.commit == "c2")
            let pending = try await reopened.pendingMessages(subscriptionID: nil)
            #expect(Set(pending.map(\.subscriptionID)) == [production.id, both.id])
            #expect(!pending.contains { $0.subscriptionID == staging.id })
            #expect(pending.allSatisfy { $0.environment == "production" && $0.messageID.hasPrefix("msg_") && $0.attempts == 0 })
            #expect(pending.allSatisfy { $0.enqueuedAt == harness.clock.now() && $0.nextAttemptAt == harness.clock.now() })
            let body = try #require(pending.first).body
            let data = try #require((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["data"] as? [String: Any])
            #expect(data["flagsUrl"] as? String == "/v1/environments/production/flags")
            #expect(data["changed"] as? [String] == ["new-checkout"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pendingMessagesCoalesceAndAnEmptyNetChangeIsDropped(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let subscription = try await self.subscribe(store, ["production"])
            let firstFetch = harness.clock.now()
            try await store.recordApplied(Fixtures.applied("c2"), changes: [self.change("production", "c2", from: "c1")], fetchedAt: firstFetch)
            let before = try #require(try await store.pendingMessages(subscriptionID: subscription.id).first)
            harness.clock.advance(by: 30)
            let enqueued = try await store.recordApplied(
                Fixtures.applied("c3"),
                changes: [Fixtures.change("production", "c3", from: "c2", ["y": (nil, "1")])],
                fetchedAt: harness.clock.now()
            )
            #expect(enqueued == 1)
            let after = try #require(try await store.pendingMessages(subscriptionID: subscription.id).first)
            #expect(try await store.pendingMessageCount() == 1)
            #expect(after.messageID != before.messageID)
            #expect(after.change.previousCommit == "c1")
            #expect(after.change.commit == "c3")
            #expect(after.change.changed == ["x"])
            #expect(after.change.added == ["y"])
            #expect(after.enqueuedAt == before.enqueuedAt)
            #expect(after.fetchedAt == firstFetch)
            // Reverting both flags leaves nothing to announce.
            let dropped = try await store.recordApplied(
                Fixtures.applied("c4"),
                changes: [Fixtures.change("production", "c4", from: "c3", ["x": ("c3", "1"), "y": ("1", nil)])],
                fetchedAt: harness.clock.now()
            )
            #expect(dropped == 0)
            #expect(try await store.pendingMessageCount() == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func subscriptionsAreCreatedListedAndDeleted(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let first = try await self.subscribe(store, ["production", "staging", "production"], path: "/a")
            harness.clock.advance(by: 1)
            let second = try await self.subscribe(store, ["staging"], path: "/b")
            #expect(first.id.hasPrefix("sub_") && first.secret.hasPrefix("whsec_"))
            #expect(first.environments == ["production", "staging"])
            #expect(try await store.subscriptions() == [first, second])
            #expect(try await harness.open().subscription(id: first.id) == first)
            #expect(try await store.subscription(id: "sub_missing") == nil)

            try await store.recordApplied(Fixtures.applied("c2"), changes: [self.change("staging", "c2", from: "c1")], fetchedAt: harness.clock.now())
            #expect(try await store.pendingMessageCount() == 2)
            try await store.deleteSubscription(id: first.id)
            #expect(try await store.subscriptions() == [second])
            #expect(try await store.pendingMessages(subscriptionID: nil).map(\.subscriptionID) == [second.id])
            await #expect(throws: NotifyError.subscriptionNotFound(first.id)) { try await store.deleteSubscription(id: first.id) }
            await #expect(throws: NotifyError.subscriptionNotFound(first.id)) { try await store.deliveries(subscriptionID: first.id, limit: 10) }
            let invalid = await #expect(throws: NotifyError.self) {
                try await store.createSubscription(url: "ftp://example.com/x", environments: ["production"], policy: .any)
            }
            #expect(invalid?.code == .invalidURL)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func staticSubscriptionsFollowTheConfigFile(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let secret = WebhookSigner.generateSecret()
            let kept = StaticSubscription(url: "https://a.example.com/hook", environments: ["production"], secret: secret)
            let removed = StaticSubscription(url: "https://b.example.com/hook", environments: ["staging"], secret: secret)
            try await store.replaceStaticSubscriptions([kept, removed])
            let stored = try await store.subscriptions()
            #expect(stored.count == 2 && stored.allSatisfy(\.isStatic))
            let keptID = try #require(stored.first { $0.url == kept.url }).id
            #expect(keptID.hasPrefix("static_"))
            await #expect(throws: NotifyError.staticSubscriptionIsReadOnly(keptID)) { try await store.deleteSubscription(id: keptID) }

            var rotated = kept
            rotated.secret = WebhookSigner.generateSecret()
            try await harness.open().replaceStaticSubscriptions([rotated])
            let after = try await store.subscriptions()
            #expect(after.map(\.id) == [keptID])
            #expect(after.first?.secret == rotated.secret)

            let invalid = StaticSubscription(url: "https://c.example.com/hook", environments: ["production"], secret: "nope")
            let refused = await #expect(throws: NotifyError.self) { try await store.replaceStaticSubscriptions([rotated, invalid]) }
            #expect(refused?.code == .invalidSecret)
            #expect(try await store.subscriptions().map(\.id) == [keptID])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func claimsTakeOneDueMessagePerSubscriptionAndHoldBackUnservedCommits(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let a = try await self.subscribe(store, ["production", "staging"], path: "/a")
            let b = try await self.subscribe(store, ["production"], path: "/b")
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1"), self.change("staging", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let now = harness.clock.now()
            // Commit c2 is not served yet: everything is held back.
            let held = try await store.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(60), servedCommit: { "c1" })
            #expect(held.messages.isEmpty && held.heldBack)
            // Served: one message per subscription, none for a busy one.
            let busy = try await store.claimDueMessages(now: now, busySubscriptions: [b.id], limit: 10, lease: .seconds(60), servedCommit: { "c2" })
            #expect(busy.messages.map(\.subscriptionID) == [a.id])
            let message = try #require(busy.messages.first)
            #expect(message.url == "http://127.0.0.1:9/a" && message.secret == a.secret && message.attempts == 0)
            #expect(message.commit == "c2")
            try await store.complete(message, attempt: self.attempt(message, at: now, result: "delivered"), outcome: .delivered)
            let rest = try await store.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(60), servedCommit: nil)
            #expect(Set(rest.messages.map(\.subscriptionID)) == [a.id, b.id])
            #expect(rest.nextDue == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func completionsRetryDeliverDisableAndLogEachAttempt(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let subscription = try await self.subscribe(store, ["production", "staging"])
            try await store.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1"), self.change("staging", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let now = harness.clock.now()
            var first = try #require(try await self.claim(store, now: now).first)
            let retryAt = now.addingTimeInterval(120)
            try await store.complete(first, attempt: self.attempt(first, at: now, status: 503, result: "failed"), outcome: .retry(at: retryAt))
            let retried = try #require(try await store.pendingMessages(subscriptionID: nil).first { $0.messageID == first.messageID })
            #expect(retried.attempts == 1)
            #expect(retried.nextAttemptAt == retryAt)

            // The other environment's message is due now; the retried one at retryAt.
            let second = try #require(try await self.claim(store, now: now).first)
            #expect(second.messageID != first.messageID)
            try await store.complete(second, attempt: self.attempt(second, at: now, result: "delivered"), outcome: .delivered)
            let none = try await store.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(60), servedCommit: nil)
            #expect(none.messages.isEmpty)
            #expect(none.nextDue == retryAt)

            first = try #require(try await self.claim(store, now: retryAt).first)
            #expect(first.attempts == 1)
            try await store.complete(first, attempt: self.attempt(first, at: retryAt, status: 410, result: "disabled"), outcome: .gone)
            #expect(try await store.subscription(id: subscription.id)?.disabled == true)
            #expect(try await store.pendingMessageCount() == 0)
            let log = try await store.deliveries(subscriptionID: subscription.id, limit: 100)
            #expect(log.map(\.result) == ["disabled", "delivered", "failed"])
            #expect(log.map(\.status) == [410, 204, 503])
            #expect(log.last?.error == "HTTP 503")
            #expect(log.last?.at == now)
            // A disabled subscription gets nothing more.
            let enqueued = try await store.recordApplied(Fixtures.applied("c3"), changes: [self.change("production", "c3", from: "c2")], fetchedAt: now)
            #expect(enqueued == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theDeliveryLogKeepsTheLastHundredAttempts(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try await harness.open()
            let subscription = try await self.subscribe(store, ["production"])
            try await store.recordApplied(Fixtures.applied("c2"), changes: [self.change("production", "c2", from: "c1")], fetchedAt: harness.clock.now())
            var now = harness.clock.now()
            for number in 1...105 {
                let message = try #require(try await self.claim(store, now: now).first)
                now = now.addingTimeInterval(1)
                try await store.complete(
                    message,
                    attempt: self.attempt(message, at: now, status: 500, result: "failed", number: number),
                    outcome: .retry(at: now)
                )
            }
            let log = try await store.deliveries(subscriptionID: subscription.id, limit: 1000)
            #expect(log.count == 100)
            #expect(log.first?.attempt == 105)
            #expect(log.last?.attempt == 6)
            #expect(try await store.deliveries(subscriptionID: subscription.id, limit: 3).map(\.attempt) == [105, 104, 103])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theDelivererRetriesAfterRetryAfterCoalescesAndStopsAt410(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let clock = harness.clock
            let start = clock.now()
            let store = try await harness.open()
            let replies: [TestReceiver.Reply] = [.status(503, headers: ["Retry-After": "120"]), .ok, .status(410)]
            try await Fixtures.withReceiver({ _, index in replies[min(index, replies.count - 1)] }) { receiver in
                let subscription = try await store.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
                try await store.recordApplied(Fixtures.applied("c2"), changes: [self.change("production", "c2", from: "c1")], fetchedAt: start)
                try await Fixtures.withHTTPClient { client in
                    let deliverer = WebhookDeliverer(
                        database: store,
                        httpClient: client,
                        configuration: .loopback,
                        clock: clock,
                        random: { 0 },
                        logger: Fixtures.logger
                    )
                    try await Fixtures.withDeliverer(deliverer) {
                        try await eventually("the first attempt failed") {
                            try await store.pendingMessages(subscriptionID: nil).first?.attempts == 1
                        }
                        let waiting = try #require(try await store.pendingMessages(subscriptionID: nil).first)
                        #expect(waiting.nextAttemptAt == start.addingTimeInterval(120))
                        // A new commit coalesces into the waiting message, which keeps its schedule and attempts.
                        try await store.recordApplied(
                            Fixtures.applied("c3"),
                            changes: [Fixtures.change("production", "c3", from: "c2", ["y": (nil, "1")])],
                            fetchedAt: clock.now()
                        )
                        let coalesced = try #require(try await store.pendingMessages(subscriptionID: nil).first)
                        #expect(coalesced.messageID != waiting.messageID)
                        #expect(coalesced.nextAttemptAt == waiting.nextAttemptAt && coalesced.attempts == 1)
                        clock.advance(to: coalesced.nextAttemptAt)
                        try await eventually("the coalesced message is delivered") { try await store.pendingMessageCount() == 0 }
                        // The next change is answered 410 Gone: the subscription is disabled.
                        try await store.recordApplied(
                            Fixtures.applied("c4"),
                            changes: [Fixtures.change("production", "c4", from: "c3", ["z": (nil, "1")])],
                            fetchedAt: clock.now()
                        )
                        try await eventually("the subscription is disabled") {
                            try await store.subscription(id: subscription.id)?.disabled == true
                        }
                    }
                }
                let requests = receiver.requests
                #expect(requests.count == 3)
                #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 3)
                let coalescedData = try #require(requests[1].json?["data"] as? [String: Any])
                #expect(coalescedData["previousCommit"] as? String == "c1")
                #expect(coalescedData["commit"] as? String == "c3")
                let log = try await store.deliveries(subscriptionID: subscription.id, limit: 10)
                #expect(log.map(\.result) == ["disabled", "delivered", "failed"])
                #expect(log.map(\.status) == [410, 204, 503])
                #expect(try await store.pendingMessageCount() == 0)
            }
        }
    }

    // MARK: - Several replicas (PostgreSQL)

    @Test func aLeasedMessageIsNotClaimedByAnotherReplicaUntilTheLeaseExpires() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let replicaA = try await harness.open()
            let replicaB = try await harness.open()
            let subscription = try await self.subscribe(replicaA, ["production", "staging"])
            try await replicaA.recordApplied(
                Fixtures.applied("c2"),
                changes: [self.change("production", "c2", from: "c1"), self.change("staging", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            let now = harness.clock.now()
            let claimed = try await replicaA.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(30), servedCommit: nil)
            #expect(claimed.messages.count == 1)
            let message = try #require(claimed.messages.first)
            #expect(message.claim != nil)

            // Replica B sees the subscription busy (its other message too) until A's lease ends.
            let during = try await replicaB.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(30), servedCommit: nil)
            #expect(during.messages.isEmpty)
            #expect(during.nextDue == now.addingTimeInterval(30))

            // A dies mid-delivery: once the lease has expired, B takes the message over, with the same webhook-id.
            let later = now.addingTimeInterval(31)
            let takeover = try await replicaB.claimDueMessages(now: later, busySubscriptions: [], limit: 10, lease: .seconds(30), servedCommit: nil)
            #expect(takeover.messages.map(\.messageID) == [message.messageID])
            #expect(takeover.messages.first?.claim != message.claim)
            let taken = try #require(takeover.messages.first)
            try await replicaB.complete(taken, attempt: self.attempt(taken, at: later, result: "delivered"), outcome: .delivered)
            // A's late completion of the same message finds it gone: it changes nothing, and is still logged.
            try await replicaA.complete(message, attempt: self.attempt(message, at: later, result: "delivered"), outcome: .delivered)
            #expect(try await replicaA.pendingMessages(subscriptionID: nil).map(\.environment).count == 1)
            #expect(try await replicaA.deliveries(subscriptionID: subscription.id, limit: 10).count == 2)
            // The subscription's other message is free again.
            let next = try await replicaA.claimDueMessages(now: later, busySubscriptions: [], limit: 10, lease: .seconds(30), servedCommit: nil)
            #expect(next.messages.count == 1)
            #expect(next.messages.first?.messageID != message.messageID)
        }
    }

    @Test func replicasClaimingAtOnceNeverGetTheSameMessage() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let setup = try await harness.open()
            for index in 0..<20 {
                _ = try await self.subscribe(setup, ["production"], path: "/\(index)")
            }
            try await setup.recordApplied(Fixtures.applied("c2"), changes: [self.change("production", "c2", from: "c1")], fetchedAt: harness.clock.now())
            var replicas: [any StateStore] = []
            for _ in 0..<4 {
                replicas.append(try await harness.open())
            }
            let now = harness.clock.now()
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for replica in replicas {
                    group.addTask {
                        try await replica.claimDueMessages(now: now, busySubscriptions: [], limit: 20, lease: .seconds(30), servedCommit: nil)
                            .messages.map(\.messageID)
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 20)
            #expect(Set(claimed).count == 20)
        }
    }

    @Test func replicasRecordingTheSameChangeAtOnceLeaveOnePendingMessage() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let setup = try await harness.open()
            for index in 0..<30 {
                _ = try await self.subscribe(setup, ["production"], path: "/\(index)")
            }
            var replicas: [any StateStore] = []
            for _ in 0..<6 {
                replicas.append(try await harness.open())
            }
            let now = harness.clock.now()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for replica in replicas {
                    group.addTask {
                        _ = try await replica.recordApplied(
                            Fixtures.applied("c2", at: now),
                            changes: [self.change("production", "c2", from: "c1")],
                            fetchedAt: now
                        )
                    }
                }
                try await group.waitForAll()
            }
            let pending = try await setup.pendingMessages(subscriptionID: nil)
            #expect(pending.count == 30)
            #expect(Set(pending.map(\.subscriptionID)).count == 30)
            #expect(pending.allSatisfy { $0.change.commit == "c2" })
        }
    }

    @Test func completingAClaimOnACoalescedMessageReleasesItsReplacement() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let store = try await harness.open()
            _ = try await self.subscribe(store, ["production"])
            try await store.recordApplied(Fixtures.applied("c2"), changes: [self.change("production", "c2", from: "c1")], fetchedAt: harness.clock.now())
            let now = harness.clock.now()
            let old = try #require(try await self.claim(store, now: now).first)
            try await store.recordApplied(
                Fixtures.applied("c3"),
                changes: [Fixtures.change("production", "c3", from: "c2", ["y": (nil, "1")])],
                fetchedAt: now
            )
            try await store.complete(old, attempt: self.attempt(old, at: now, result: "delivered"), outcome: .delivered)
            let replacement = try #require(try await self.claim(store, now: now).first)
            #expect(replacement.messageID != old.messageID)
            #expect(replacement.commit == "c3")
        }
    }

    @Test func replicasStartingTogetherMigrateAnEmptyDatabaseOnce() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let stores = try (0..<6).map { _ in try harness.unmigratedPostgres() }
            #expect(try await stores[0].schemaVersion() == 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores {
                    group.addTask { try await store.migrate() }
                }
                try await group.waitForAll()
            }
            for store in stores {
                #expect(try await store.schemaVersion() == PostgresSchema.migrations.count)
            }
            // Migrating again is a no-op, and the tables work.
            try await stores[1].migrate()
            _ = try await self.subscribe(stores[2], ["production"])
            #expect(try await stores[3].subscriptions().count == 1)
        }
    }

    @Test func anUnreachableServerFailsTheStartUpWithItsReason() async throws {
        // Port 1 on loopback: nothing listens there. The pool alone would retry forever.
        let location = try PostgresLocation(url: "postgres://halyard@127.0.0.1:1/halyard?sslmode=disable")
        let error = await #expect(throws: NotifyError.self) {
            _ = try await PostgresStateStore.open(location: location, password: nil, logger: Fixtures.logger)
        }
        #expect(error?.code == .database)
        #expect(error?.subject == "postgres://halyard@127.0.0.1:1/halyard")
        #expect(error?.message.contains("refused") == true, "\(String(describing: error))")
    }

    @Test func aMissingDatabaseFailsTheStartUpWithTheServersMessage() async throws {
        let server = try PostgresLocation(url: try PostgresTestServer.url())
        var location = server
        location.database = "halyard_no_such_database"
        location.tls = .disable
        let error = await #expect(throws: NotifyError.self) {
            _ = try await PostgresStateStore.open(location: location, password: nil, logger: Fixtures.logger)
        }
        #expect(error?.message.contains("does not exist") == true, "\(String(describing: error))")
    }

    @Test func aURLWithAPasswordIsRefusedWithoutShowingIt() throws {
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://halyard:hunter2@db.internal:5432/halyard") }
        do {
            _ = try PostgresLocation(url: "postgres://halyard:hunter2@db.internal:5432/halyard")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("state.passwordFile"))
        }
        let location = try PostgresLocation(url: "postgresql://halyard@db.internal/flags?sslmode=require")
        #expect(location.port == 5432 && location.database == "flags" && location.tls == .require)
        #expect(location.description == "postgres://halyard@db.internal:5432/flags")
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://db.internal/flags") }
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://halyard@db.internal") }
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "mysql://halyard@db.internal/flags") }
    }

    // MARK: - Helpers

    func claim(_ store: any StateStore, now: Date) async throws -> [OutboxMessage] {
        try await store.claimDueMessages(now: now, busySubscriptions: [], limit: 10, lease: .seconds(60), servedCommit: nil).messages
    }

    func attempt(_ message: OutboxMessage, at date: Date, status: Int? = 204, result: String, number: Int? = nil) -> DeliveryAttempt {
        DeliveryAttempt(
            messageID: message.messageID,
            environment: message.environment,
            commit: message.commit,
            attempt: number ?? message.attempts + 1,
            at: date,
            status: status,
            durationSeconds: 0.01,
            error: result == "delivered" ? nil : "HTTP \(status ?? 0)",
            result: result
        )
    }
}

// MARK: - One publisher at a time (PostgreSQL)

extension StateStoreTests {
    @Test func onlyOneReplicaHoldsThePublisherLockUntilItsConnectionCloses() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let replicaA = try #require(try await harness.open() as? PostgresStateStore)
            let replicaB = try #require(try await harness.open() as? PostgresStateStore)
            #expect(try await replicaA.acquirePublisherLock())
            #expect(try await !replicaB.acquirePublisherLock())
            #expect(try await replicaA.acquirePublisherLock())
            #expect(replicaA.health.publisher && !replicaB.health.publisher)

            // A dies: its lock goes with its connection, and B takes it over.
            replicaA.close()
            try await eventually("replica B takes the publisher lock over") {
                try await replicaB.acquirePublisherLock()
            }
            #expect(replicaB.health == SharedStateHealth(kind: "postgresql", reachable: true, publisher: true))
        }
    }

    @Test func publishingIsACompareAndSetOnThePublishedCommit() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let publisher = try #require(try await harness.open() as? PostgresStateStore)
            let other = try #require(try await harness.open() as? PostgresStateStore)
            _ = try await self.subscribe(publisher, ["production"])
            #expect(try await publisher.acquirePublisherLock())

            // Without the lock nothing is written.
            await #expect(throws: NotifyError.self) {
                try await other.publish(Fixtures.applied("c1"), replacing: nil, changes: [], fetchedAt: harness.clock.now())
            }
            #expect(try await publisher.publish(Fixtures.applied("c1"), replacing: nil, changes: [], fetchedAt: harness.clock.now()) == .published(0))
            // A second "first" commit, or a commit diffed against a stale published commit, is refused and writes nothing.
            #expect(
                try await publisher.publish(Fixtures.applied("c1b"), replacing: nil, changes: [], fetchedAt: harness.clock.now())
                    == .conflict(current: "c1")
            )
            let next = try await publisher.publish(
                Fixtures.applied("c2"),
                replacing: "c1",
                changes: [self.change("production", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            #expect(next == .published(1))
            let stale = try await publisher.publish(
                Fixtures.applied("c3"),
                replacing: "c1",
                changes: [self.change("production", "c3", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            #expect(stale == .conflict(current: "c2"))
            #expect(try await other.appliedState()?.commit == "c2")
            let pending = try await other.pendingMessages(subscriptionID: nil)
            #expect(pending.map(\.change.commit) == ["c2"])
            #expect(pending.map(\.change.previousCommit) == ["c1"])
        }
    }

    @Test func sharedEventsCarryRefreshesAndNewMessagesToTheOtherReplicas() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let publisher = try #require(try await harness.open() as? PostgresStateStore)
            let listener = try #require(try await harness.open() as? PostgresStateStore)
            _ = try await self.subscribe(publisher, ["production"])
            let refreshes = CallCounter()
            let wakeUps = CallCounter()
            _ = listener.addEnqueueObserver { wakeUps.increment() }
            let following = Task { await listener.followSharedEvents { refreshes.increment() } }
            defer { following.cancel() }
            // Once connected, the listener fetches and looks at the outbox once, for what it may have missed.
            try await eventually("the listener is connected") { refreshes.value == 1 && wakeUps.value == 1 }

            await publisher.announceRefresh()
            try await eventually("the refresh reaches the other replica") { refreshes.value == 2 }
            // A replica does not hear its own announcement as a trigger.
            let own = CallCounter()
            let ownFollowing = Task { await publisher.followSharedEvents { own.increment() } }
            defer { ownFollowing.cancel() }
            try await eventually("the publisher listens too") { own.value == 1 }
            await publisher.announceRefresh()
            try await eventually("the refresh reaches the other replica again") { refreshes.value == 3 }

            #expect(try await publisher.acquirePublisherLock())
            _ = try await publisher.publish(Fixtures.applied("c1"), replacing: nil, changes: [], fetchedAt: harness.clock.now())
            _ = try await publisher.publish(
                Fixtures.applied("c2"),
                replacing: "c1",
                changes: [self.change("production", "c2", from: "c1")],
                fetchedAt: harness.clock.now()
            )
            try await eventually("the new message wakes the other replica's deliverer") { wakeUps.value == 2 }
            #expect(own.value == 1)
        }
    }
}

/// A thread-safe count of calls.
private final class CallCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { self.count.withLock { $0 } }
    func increment() { self.count.withLock { $0 += 1 } }
}
