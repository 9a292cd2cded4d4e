//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardTesting
import Synchronization
import Testing

@testable import HalyardNotify

/// Deliveries to real HTTP receivers on loopback.
@Suite(.timeLimit(.minutes(2)))
struct DeliveryTests {
    /// Enqueues one production change for every subscriber.
    @discardableResult
    func enqueue(_ database: StateDatabase, commit: String = "c2", previous: String = "c1", flag: String = "new-checkout") throws -> Int {
        try database.recordApplied(
            Fixtures.applied(commit),
            changes: [Fixtures.change("production", commit, from: previous, [flag: ("f-\(previous)", "f-\(commit)")])],
            fetchedAt: Date()
        )
    }

    func roundedMilliseconds(_ interval: TimeInterval) -> Double {
        (interval * 1000).rounded() / 1000
    }

    @Test func testReceiverVerifiesHeadersSignatureAndBody() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await Fixtures.withReceiver { receiver in
            let subscription = try database.createSubscription(url: receiver.url("/hook"), environments: ["production"], policy: .any)
            _ = try database.createSubscription(url: receiver.url("/staging"), environments: ["staging"], policy: .any)
            try self.enqueue(database)
            try database.storeFlagsURLs(base: Fixtures.flagsBaseURL)
            let message = try #require(try database.pendingMessages().first)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("delivery") { try database.pendingMessageCount() == 0 }
                }
            }
            let request = try #require(receiver.requests.first)
            #expect(receiver.requests.count == 1)
            #expect(request.path == "/hook")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["content-length"] == String(request.body.count))
            #expect(request.headers["webhook-id"] == message.messageID)
            let timestamp = try #require(request.headers["webhook-timestamp"].flatMap { Int($0) })
            #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 30)
            let signer = try WebhookSigner(secret: subscription.secret)
            #expect(request.headers["webhook-signature"] == signer.signature(id: message.messageID, timestamp: timestamp, body: request.body))
            #expect(request.body == message.body)

            let json = try #require(request.json)
            #expect(json["type"] as? String == "flags.changed")
            let data = try #require(json["data"] as? [String: Any])
            #expect(data["environment"] as? String == "production")
            #expect(data["commit"] as? String == "c2")
            #expect(data["previousCommit"] as? String == "c1")
            #expect(data["changed"] as? [String] == ["new-checkout"])
            #expect(data["added"] as? [String] == [])
            #expect(data["removed"] as? [String] == [])
            #expect(data["flagsUrl"] as? String == "http://127.0.0.1:8080/v1/environments/production/flags")

            let log = try database.deliveries(subscriptionID: subscription.id)
            #expect(log.count == 1)
            #expect(log.first?.result == "delivered")
            #expect(log.first?.status == 204)
            #expect(log.first?.attempt == 1)
            #expect(log.first?.messageID == message.messageID)
            #expect(log.first?.commit == "c2")
            #expect(log.first?.error == nil)
        }
    }

    @Test func testRecordAppliedWakesARunningDeliverer() async throws {
        // The manual clock never moves, so the deliverer's fallback poll never fires: only the wake-up can deliver.
        let clock = ManualClock(now: Date())
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        try await Fixtures.withReceiver { receiver in
            _ = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    clock: clock,
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    // The deliverer found the empty outbox and sleeps until its fallback poll, a minute away.
                    try await eventually("the deliverer asleep on its clock") { clock.sleeperCount == 1 }
                    try self.enqueue(database)
                    try await eventually("delivery without an explicit wake()") { receiver.requests.count == 1 }
                }
            }
        }
    }

    @Test func testRetriesWithExponentialBackoffAndFullJitter() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        try await Fixtures.withReceiver({ _, index in index < 4 ? .status(500) : .ok }) { receiver in
            let subscription = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database)
            let configuration = WebhookDeliverer.Configuration(initialBackoff: .seconds(1), maxBackoff: .seconds(3), allowPrivateNetworks: true)
            #expect(configuration.backoffDelay(attempt: 1, random: 0.5) == .milliseconds(500))
            #expect(configuration.backoffDelay(attempt: 10, random: 0.5) == .milliseconds(1500))
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: configuration,
                    clock: clock,
                    random: { 0.5 },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    var delays: [TimeInterval] = []
                    var attemptedAt = start
                    for attempt in 1...4 {
                        try await eventually("attempt \(attempt)") { try database.pendingMessages().first?.attempts == attempt }
                        let next = try #require(try database.pendingMessages().first).nextAttemptAt
                        delays.append(self.roundedMilliseconds(next.timeIntervalSince(attemptedAt)))
                        attemptedAt = next
                        clock.advance(to: next)
                    }
                    // random × min(maxBackoff, initialBackoff × 2^(attempt-1)) = 0.5 × [1, 2, 4 → 3, 8 → 3]
                    #expect(delays == [0.5, 1, 1.5, 1.5])
                    try await eventually("delivery") { try database.pendingMessageCount() == 0 }
                }
            }
            let requests = receiver.requests
            #expect(requests.count == 5)
            #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 1)
            #expect(Set(requests.map(\.body)).count == 1)
            let base = Int(start.timeIntervalSince1970)
            #expect(requests.compactMap { $0.headers["webhook-timestamp"].flatMap { Int($0) } } == [0, 0, 1, 3, 4].map { base + $0 })
            let log = try database.deliveries(subscriptionID: subscription.id)
            #expect(log.map(\.attempt) == [5, 4, 3, 2, 1])
            #expect(log.map(\.result) == ["delivered", "failed", "failed", "failed", "failed"])
            #expect(log.map(\.status) == [204, 500, 500, 500, 500])
        }
    }

    @Test func testRetryAfterIsHonouredAndCapped() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let httpDate = formatter.string(from: start.addingTimeInterval(120 + 300))
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        let replies: [TestReceiver.Reply] = [
            .status(503, headers: ["Retry-After": "120"]),
            .status(429, headers: ["Retry-After": httpDate]),
            .status(503, headers: ["Retry-After": "100000"]),
            .ok,
        ]
        try await Fixtures.withReceiver({ _, index in replies[min(index, replies.count - 1)] }) { receiver in
            let subscription = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    clock: clock,
                    random: { 0 },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    var schedule: [TimeInterval] = []
                    for attempt in 1...3 {
                        try await eventually("attempt \(attempt)") { try database.pendingMessages().first?.attempts == attempt }
                        let next = try #require(try database.pendingMessages().first).nextAttemptAt
                        schedule.append(self.roundedMilliseconds(next.timeIntervalSince(start)))
                        clock.advance(to: next)
                    }
                    // 120 s, then the HTTP-date (420 s after the start), then 100000 s capped at maxBackoff (600 s).
                    #expect(schedule == [120, 420, 1020])
                    try await eventually("delivery") { try database.pendingMessageCount() == 0 }
                }
            }
            #expect(receiver.requests.count == 4)
            #expect(try database.deliveries(subscriptionID: subscription.id).map(\.status) == [204, 503, 429, 503])
        }
    }

    @Test func testMessageIsDeadAfterMaxAge() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        try await Fixtures.withReceiver({ _, _ in .status(500) }) { receiver in
            let subscription = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database)
            let configuration = WebhookDeliverer.Configuration(
                initialBackoff: .seconds(10),
                maxBackoff: .seconds(40),
                maxAge: .seconds(60),
                allowPrivateNetworks: true
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: configuration,
                    clock: clock,
                    random: { 0.5 },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    var attempts = 0
                    var times: [TimeInterval] = []
                    while attempts < 20 {
                        try await eventually("attempt \(attempts + 1)") {
                            let pending = try database.pendingMessages()
                            return pending.isEmpty || pending[0].attempts > attempts
                        }
                        guard let message = try database.pendingMessages().first else { break }
                        attempts = message.attempts
                        times.append(self.roundedMilliseconds(message.nextAttemptAt.timeIntervalSince(start)))
                        clock.advance(to: message.nextAttemptAt)
                    }
                    // Delays 5, 10, 20, 20 (capped at 40 × 0.5), then the last attempt exactly at the maximum age.
                    #expect(times == [5, 15, 35, 55, 60])
                }
            }
            #expect(receiver.requests.count == 6)
            let log = try database.deliveries(subscriptionID: subscription.id)
            #expect(log.map(\.result) == ["dead", "failed", "failed", "failed", "failed", "failed"])
            #expect(try database.pendingMessageCount() == 0)
            #expect(try database.subscription(id: subscription.id)?.disabled == false)
        }
    }

    @Test func testCoalescingKeepsTheFirstEnqueueTimeAndAttemptCount() async throws {
        let clock = ManualClock()
        let start = clock.now()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        try await Fixtures.withReceiver({ _, _ in .status(500) }) { receiver in
            let subscription = try database.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
            try self.enqueue(database, commit: "c2", previous: "c1")
            let configuration = WebhookDeliverer.Configuration(
                initialBackoff: .seconds(10),
                maxBackoff: .seconds(40),
                maxAge: .seconds(120),
                allowPrivateNetworks: true
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: configuration,
                    clock: clock,
                    random: { 0.5 },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    for attempt in 1...2 {
                        try await eventually("attempt \(attempt)") { try database.pendingMessages().first?.attempts == attempt }
                        clock.advance(to: try #require(try database.pendingMessages().first).nextAttemptAt)
                    }
                    // Three failures, at 0 s, 5 s and 15 s; the fourth attempt is due at 35 s. A new commit at 15 s is
                    // coalesced into the pending message: the attempt count, the backoff and the age carry over.
                    try await eventually("attempt 3") { try database.pendingMessages().first?.attempts == 3 }
                    let beforeCoalescing = try #require(try database.pendingMessages().first)
                    try self.enqueue(database, commit: "c3", previous: "c2")
                    let coalesced = try #require(try database.pendingMessages().first)
                    #expect(coalesced.change.commit == "c3")
                    #expect(coalesced.messageID != beforeCoalescing.messageID)
                    #expect(coalesced.attempts == 3)
                    #expect(coalesced.enqueuedAt == start)
                    #expect(coalesced.nextAttemptAt == beforeCoalescing.nextAttemptAt)

                    // The next failure is attempt 4, backed off by 0.5 × min(40, 10 × 2³) = 20 s.
                    clock.advance(to: coalesced.nextAttemptAt)
                    try await eventually("attempt 4") { try database.pendingMessages().first?.attempts == 4 }
                    let afterFailure = try #require(try database.pendingMessages().first)
                    #expect(afterFailure.nextAttemptAt == coalesced.nextAttemptAt.addingTimeInterval(20))

                    // The message dies 120 s after the first enqueue, not 120 s after the coalesced commit.
                    while let pending = try database.pendingMessages().first {
                        clock.advance(to: pending.nextAttemptAt)
                        let attempts = pending.attempts
                        try await eventually("attempt \(attempts + 1)") {
                            try database.pendingMessages().first.map { $0.attempts > attempts } ?? true
                        }
                    }
                }
            }
            let log = try database.deliveries(subscriptionID: subscription.id)
            #expect(log.first?.result == "dead")
            #expect(log.first?.at == start.addingTimeInterval(120))
            #expect(log.map(\.attempt) == Array((1...log.count).reversed()))
        }
    }

    @Test func testHangingSubscriberDoesNotDelayOthers() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        let handler: TestReceiver.Handler = { request, _ in
            request.path.hasPrefix("/slow") ? .hang : .ok
        }
        try await Fixtures.withReceiver(handler) { receiver in
            let slow = try (0..<3).map { index in
                try database.createSubscription(url: receiver.url("/slow\(index)"), environments: ["production"], policy: .any)
            }
            let fast = try database.createSubscription(url: receiver.url("/fast"), environments: ["production"], policy: .any)
            // The slow attempts end only at this deadline, so a fast delivery logged before any slow attempt was not
            // held up by them; the deadline is long enough for a loaded machine to deliver the fast one first.
            let timeout = Duration.seconds(5)
            let configuration = WebhookDeliverer.Configuration(timeout: timeout, maxConcurrentDeliveries: 8, allowPrivateNetworks: true)
            try await Fixtures.withHTTPClient(timeout: timeout) { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: configuration,
                    random: { 0.99 },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try self.enqueue(database, commit: "c2", previous: "c1")
                    deliverer.wake()
                    try await eventually("fast delivery") { receiver.requests(path: "/fast").count == 1 }
                    #expect(try slow.allSatisfy { try database.deliveries(subscriptionID: $0.id).isEmpty })

                    // A second commit while the slow receivers still hang reaches the fast one before they time out too.
                    try await eventually("slow requests started") {
                        receiver.requests.filter { $0.path.hasPrefix("/slow") }.count >= 3
                    }
                    try self.enqueue(database, commit: "c3", previous: "c2")
                    deliverer.wake()
                    try await eventually("second fast delivery") { receiver.requests(path: "/fast").count == 2 }
                    #expect(try slow.allSatisfy { try database.deliveries(subscriptionID: $0.id).isEmpty })

                    // The hanging receivers time out and are retried later.
                    try await eventually("slow attempts time out", timeout: .seconds(30)) {
                        try slow.allSatisfy { try !database.deliveries(subscriptionID: $0.id).isEmpty }
                    }
                }
            }
            #expect(try database.deliveries(subscriptionID: fast.id).map(\.result) == ["delivered", "delivered"])
            for subscription in slow {
                let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).last)
                #expect(attempt.result == "failed")
                #expect(attempt.status == nil)
                #expect(attempt.error?.contains("timed out") == true)
                // Not before the deadline; the upper bound only catches an attempt that ignores it.
                #expect(attempt.durationSeconds >= 4.9 && attempt.durationSeconds < 30)
            }
        }
    }

    @Test func testAtMostOneRequestInFlightPerSubscription() async throws {
        let probe = ConcurrencyProbe()
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await Fixtures.withReceiver({ request, _ in
            probe.enter(request.path)
            try? await Task.sleep(for: .milliseconds(100))
            probe.leave(request.path)
            return .ok
        }) { receiver in
            let environments = ["a", "b", "c", "d"]
            _ = try database.createSubscription(url: receiver.url("/one"), environments: environments, policy: .any)
            _ = try database.createSubscription(url: receiver.url("/two"), environments: environments, policy: .any)
            try database.recordApplied(
                Fixtures.applied("c2"),
                changes: environments.map { Fixtures.change($0, "c2", from: "c1", ["x": (nil, "1")]) },
                fetchedAt: Date()
            )
            #expect(try database.pendingMessageCount() == 8)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("all delivered") { try database.pendingMessageCount() == 0 }
                }
            }
            #expect(receiver.requests.count == 8)
            #expect(probe.maxPerPath == 1)
            #expect(probe.maxOverall == 2)
        }
    }

    @Test func testRedirectsAreNotFollowed() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await Fixtures.withReceiver({ request, _ in
            request.path == "/moved" ? .status(302, headers: ["Location": "/target"]) : .ok
        }) { receiver in
            let subscription = try database.createSubscription(url: receiver.url("/moved"), environments: ["production"], policy: .any)
            try self.enqueue(database)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("attempt") { try !database.deliveries(subscriptionID: subscription.id).isEmpty }
                }
            }
            #expect(receiver.requests(path: "/target").isEmpty)
            let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).first)
            #expect(attempt.status == 302)
            #expect(attempt.result == "failed")
            #expect(try database.pendingMessageCount() == 1)
        }
    }

    @Test func testConnectionFailuresAreRetried() async throws {
        let clock = ManualClock()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        // Nothing listens on port 1, so the connection is refused.
        let url = "http://127.0.0.1:1/hook"
        let subscription = try database.createSubscription(url: url, environments: ["production"], policy: .any)
        try self.enqueue(database)
        try await Fixtures.withHTTPClient(timeout: .seconds(1)) { client in
            // The client keeps trying to connect until the request's deadline.
            let deliverer = WebhookDeliverer(
                database: database,
                httpClient: client,
                configuration: .init(timeout: .seconds(1), allowPrivateNetworks: true),
                clock: clock,
                random: { 0.5 },
                logger: Fixtures.logger
            )
            try await Fixtures.withDeliverer(deliverer) {
                try await eventually("attempt") { try !database.deliveries(subscriptionID: subscription.id).isEmpty }
            }
        }
        let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).first)
        #expect(attempt.status == nil)
        #expect(attempt.error != nil)
        #expect(attempt.result == "failed")
        #expect(try database.pendingMessages().first?.nextAttemptAt == clock.now().addingTimeInterval(0.5))
    }

    @Test func testDeliveryLogKeepsTheLast100Attempts() async throws {
        let clock = ManualClock()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        let subscription = try database.createSubscription(url: "http://127.0.0.1:1/hook", environments: ["production"], policy: .any)
        try self.enqueue(database)
        // 110 failed attempts, recorded the way the deliverer records each one.
        for attempt in 1...110 {
            let message = try #require(try database.dueMessages(now: clock.now(), busySubscriptions: [], limit: 1).messages.first)
            let record = DeliveryAttempt(
                messageID: message.messageID,
                environment: message.environment,
                commit: message.commit,
                attempt: attempt,
                at: clock.now(),
                status: 500,
                durationSeconds: 0.01,
                error: nil,
                result: DeliveryOutcome.retry(at: clock.now()).result
            )
            try database.complete(message, attempt: record, outcome: .retry(at: clock.now()))
        }
        #expect(try database.pendingMessages().first?.attempts == 110)
        let log = try database.deliveries(subscriptionID: subscription.id, limit: 1000)
        #expect(log.count == 100)
        #expect(log.map(\.attempt) == Array((11...110).reversed()))
        #expect(try database.deliveries(subscriptionID: subscription.id, limit: 10).count == 10)
    }
}

/// Counts concurrent requests per path.
final class ConcurrencyProbe: Sendable {
    private struct State {
        var current: [String: Int] = [:]
        var maxPerPath = 0
        var overall = 0
        var maxOverall = 0
    }

    private let state = Mutex(State())

    func enter(_ path: String) {
        self.state.withLock { state in
            state.current[path, default: 0] += 1
            state.overall += 1
            state.maxPerPath = max(state.maxPerPath, state.current[path] ?? 0)
            state.maxOverall = max(state.maxOverall, state.overall)
        }
    }

    func leave(_ path: String) {
        self.state.withLock { state in
            state.current[path, default: 0] -= 1
            state.overall -= 1
        }
    }

    var maxPerPath: Int { self.state.withLock { $0.maxPerPath } }
    var maxOverall: Int { self.state.withLock { $0.maxOverall } }
}
