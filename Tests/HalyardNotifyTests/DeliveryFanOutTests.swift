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

/// A fan-out to many subscribers: the bodies of a claimed batch and the outcomes of attempts that finish together are
/// written in groups, and pinned deliveries keep their connections; every message still ends as its own answer says.
@Suite(.timeLimit(.minutes(2)))
struct DeliveryFanOutTests {
    @Test func testEveryOutcomeOfAFanOutIsRecorded() async throws {
        // 12 subscribers of each kind, answered at once, so their outcomes are written together.
        let replies: [String: TestReceiver.Reply] = ["ok": .ok, "fail": .status(500), "gone": .status(410)]
        try await Fixtures.withReceiver({ request, _ in replies[String(request.path.split(separator: "/")[0])] ?? .ok }) { receiver in
            let clock = ManualClock(now: Date())
            let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
            var kinds: [String: String] = [:]
            for index in 0..<36 {
                let kind = ["ok", "fail", "gone"][index % 3]
                let subscription = try database.createSubscription(url: receiver.url("/\(kind)/\(index)"), environments: ["production"], policy: .any)
                kinds[subscription.id] = kind
            }
            try database.recordApplied(
                Fixtures.applied("c2"),
                changes: [Fixtures.change("production", "c2", from: "c1", ["flag": ("1", "2")])],
                fetchedAt: Date()
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    clock: clock,
                    random: { 0.5 },
                    flagsBaseURL: { "http://flags.example:9000" },
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("every attempt recorded") {
                        try kinds.keys.allSatisfy { try !database.deliveries(subscriptionID: $0).isEmpty }
                    }
                }
            }
            #expect(receiver.requests.count == 36)
            for request in receiver.requests {
                let data = try #require(request.json?["data"] as? [String: Any])
                #expect(data["flagsUrl"] as? String == "http://flags.example:9000/v1/environments/production/flags")
            }
            let subscriptions = Dictionary(uniqueKeysWithValues: try database.subscriptions().map { ($0.id, $0) })
            for (id, kind) in kinds {
                let log = try database.deliveries(subscriptionID: id)
                let pending = try database.pendingMessages(subscriptionID: id)
                switch kind {
                case "ok":
                    #expect(log.map(\.result) == ["delivered"])
                    #expect(pending.isEmpty)
                case "fail":
                    #expect(log.map(\.result) == ["failed"])
                    #expect(log.first?.status == 500)
                    // Rescheduled after 0.5 × 1 s, with the completed body that was sent.
                    let message = try #require(pending.first)
                    #expect(message.attempts == 1)
                    #expect(abs(message.nextAttemptAt.timeIntervalSince(clock.now()) - 0.5) < 0.001)
                    #expect(String(decoding: message.body, as: UTF8.self).contains("http://flags.example:9000/v1/environments/production/flags"))
                default:
                    #expect(log.map(\.result) == ["disabled"])
                    #expect(pending.isEmpty)
                    #expect(subscriptions[id]?.disabled == true)
                }
            }
        }
    }

    @Test func testPinnedDeliveriesReuseTheirConnection() async throws {
        // A made-up name resolved to loopback (exempted), so each attempt is checked and pinned; three commits in turn
        // go to the same subscriber over one kept-alive connection rather than a new client and connection each.
        var configuration = WebhookDeliverer.Configuration()
        configuration.resolver = HostResolver { host in
            guard host == "hooks.halyard.invalid" else { throw HostResolutionError(host: host, reason: "unknown") }
            return [IPAddress(strict: "127.0.0.1")!]
        }
        configuration.exemptRanges = [.loopback]
        try await Fixtures.withReceiver { receiver in
            let database = try StateDatabase(path: Fixtures.databasePath())
            let subscription = try database.createSubscription(
                url: "http://hooks.halyard.invalid:\(receiver.port)/hook",
                environments: ["production"],
                policy: .any
            )
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: configuration, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    for round in 1...3 {
                        try database.recordApplied(
                            Fixtures.applied("c\(round + 1)"),
                            changes: [Fixtures.change("production", "c\(round + 1)", from: "c\(round)", ["flag": ("\(round)", "\(round + 1)")])],
                            fetchedAt: Date()
                        )
                        try await eventually("delivery \(round)") { try database.deliveries(subscriptionID: subscription.id).count == round }
                    }
                }
            }
            #expect(try database.deliveries(subscriptionID: subscription.id).map(\.result) == ["delivered", "delivered", "delivered"])
            #expect(receiver.requests.count == 3)
            #expect(receiver.acceptedConnections == 1)
        }
    }
}
