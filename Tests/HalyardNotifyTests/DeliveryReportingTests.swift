//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardTesting
import Testing

/// What a delivery reports: metrics by result (issue 17 point 7), and logs and errors without subscriber secrets (issue
/// 9 point 1).
@Suite(.timeLimit(.minutes(2)))
struct DeliveryReportingTests {
    func enqueue(_ database: StateDatabase, commit: String = "c2", previous: String = "c1") throws {
        try database.recordApplied(
            Fixtures.applied(commit),
            changes: [Fixtures.change("production", commit, from: previous, ["new-checkout": ("f-\(previous)", "f-\(commit)")])],
            fetchedAt: Date()
        )
    }

    @Test func testGoneIsCountedAsDisabled() async throws {
        let metrics = RecordingMetrics()
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await Fixtures.withReceiver({ request, _ in request.path == "/gone" ? .status(410) : .status(500) }) { receiver in
            let gone = try database.createSubscription(url: receiver.url("/gone"), environments: ["production"], policy: .any)
            let failing = try database.createSubscription(url: receiver.url("/failing"), environments: ["production"], policy: .any)
            try self.enqueue(database)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .loopback,
                    metricsFactory: metrics,
                    logger: Fixtures.logger
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("both attempts") {
                        try database.subscription(id: gone.id)?.disabled == true && !database.deliveries(subscriptionID: failing.id).isEmpty
                    }
                }
            }
            #expect(try database.deliveries(subscriptionID: gone.id).map(\.result) == ["disabled"])
            #expect(metrics.counter("halyard_webhook_deliveries_total", [("result", "disabled")]) == 1)
            #expect(metrics.counter("halyard_webhook_deliveries_total", [("result", "failed")]) >= 1)
            #expect(metrics.counter("halyard_webhook_deliveries_total", [("result", "delivered")]) == 0)
        }
    }

    @Test(arguments: [true, false])
    func testSubscriberQueryStringsStayOutOfLogsAndErrors(allowPrivateNetworks: Bool) async throws {
        let log = CapturedLog()
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await Fixtures.withReceiver({ _, _ in .status(500) }) { receiver in
            // With private networks allowed the first two fail with HTTP 500, without they are refused; the third
            // cannot be resolved either way.
            let urls = [
                receiver.url("/hook?token=sekrit-1"),
                "http://localhost:\(receiver.port)/hook?token=sekrit-2#frag",
                "http://hooks.halyard.invalid/hook?token=sekrit-3",
            ]
            let subscriptions = try urls.map { try database.createSubscription(url: $0, environments: ["production"], policy: .any) }
            try self.enqueue(database)
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(
                    database: database,
                    httpClient: client,
                    configuration: .init(allowPrivateNetworks: allowPrivateNetworks),
                    logger: log.logger()
                )
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("three attempts") {
                        try subscriptions.allSatisfy { try !database.deliveries(subscriptionID: $0.id).isEmpty }
                    }
                }
            }
            let errors = try subscriptions.compactMap { try database.deliveries(subscriptionID: $0.id).first?.error }
            #expect(errors.count == 3)
            #expect(errors.filter { $0 == "HTTP 500" }.count == (allowPrivateNetworks ? 2 : 0))
            let lines = log.all
            #expect(lines.contains { $0.contains("url=http://127.0.0.1:\(receiver.port)/hook?…") })
            #expect(lines.contains { $0.contains("url=http://localhost:\(receiver.port)/hook?…") })
            #expect(lines.contains { $0.contains("url=http://hooks.halyard.invalid/hook?…") })
            for text in lines + errors {
                #expect(!text.contains("sekrit"), "\(text)")
                #expect(!text.contains("token="), "\(text)")
            }
        }
    }

    @Test func testCreationErrorsRedactTheURL() {
        do {
            _ = try StateDatabase(path: Fixtures.databasePath())
                .createSubscription(url: "https://user:pass@hooks.example/x?token=sekrit", environments: ["production"], policy: .any)
            Issue.record("user info is refused")
        } catch {
            #expect(error.description == #"invalid webhook URL "https://…@hooks.example/x?…": it must not contain a user name or password"#)
        }
        do {
            _ = try StateDatabase(path: Fixtures.databasePath())
                .createSubscription(
                    url: "https://hooks.example/x?token=sekrit",
                    environments: ["production"],
                    policy: .init(allowedHosts: ["a.example"])
                )
            Issue.record("the host is not allowed")
        } catch {
            #expect(error.description == #"webhook URL "https://hooks.example/x?…": host is not in the allowed hosts"#)
        }
        #expect(SubscriberURL.redacted("https://u:p@hooks.example:8443/x?token=abc") == "https://…@hooks.example:8443/x?…")
        #expect(SubscriberURL.redacted("https://hooks.example/x") == "https://hooks.example/x")
        #expect(SubscriberURL.redacted("https://hooks.example/x#a?b") == "https://hooks.example/x#…")
    }
}
