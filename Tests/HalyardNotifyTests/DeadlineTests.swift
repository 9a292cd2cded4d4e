//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardTesting
import Testing

/// The attempt's time limit covers the whole exchange, and nothing a receiver does holds the deliverer or its shutdown
/// (issue 9 point 4, issue 17 point 6).
@Suite(.timeLimit(.minutes(2)))
struct DeadlineTests {
    func enqueue(_ database: StateDatabase) throws {
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["new-checkout": ("f1", "f2")])],
            fetchedAt: Date()
        )
    }

    @Test func testTricklingBodyFailsAtTheDeadline() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        // One byte every 300 ms: no read timeout ever fires, and the 10,000-byte body would take 50 minutes.
        try await TricklingReceiver.with(interval: .milliseconds(300)) { receiver in
            let subscription = try database.createSubscription(url: receiver.url, environments: ["production"], policy: .any)
            try self.enqueue(database)
            // No retry during the test: the backoff after a failure is random × initialBackoff, and with the default
            // 1 s a second attempt reached the receiver before the deliverer stopped (seen on a loaded machine).
            let configuration = WebhookDeliverer.Configuration(timeout: .seconds(1), initialBackoff: .seconds(600), allowPrivateNetworks: true)
            try await Fixtures.withHTTPClient(timeout: .seconds(1)) { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: configuration, logger: Fixtures.logger)
                try await Fixtures.withDeliverer(deliverer) {
                    try await eventually("the attempt ends", timeout: .seconds(30)) {
                        try !database.deliveries(subscriptionID: subscription.id).isEmpty
                    }
                }
            }
            #expect(receiver.requestCount == 1)
            let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).first)
            // The head said 200, but an attempt that does not end by its deadline failed.
            #expect(attempt.result == "failed")
            #expect(attempt.status == nil)
            #expect(attempt.error == "timed out after 1s")
            let pending = try #require(try database.pendingMessages().first)
            #expect(pending.attempts == 1)
        }
    }

    @Test func testGracefulShutdownAbandonsATricklingAttempt() async throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        try await TricklingReceiver.with(interval: .milliseconds(300)) { receiver in
            let subscription = try database.createSubscription(url: receiver.url, environments: ["production"], policy: .any)
            try self.enqueue(database)
            let message = try #require(try database.pendingMessages().first)
            // The default 10 s timeout; the grace period ends the attempt at shutdown.
            let configuration = WebhookDeliverer.Configuration(allowPrivateNetworks: true, shutdownGracePeriod: .milliseconds(200))
            try await Fixtures.withHTTPClient { client in
                let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: configuration, logger: Fixtures.logger)
                try await Fixtures.withGracefulShutdown(of: deliverer) {
                    try await eventually("the receiver trickles") { receiver.requestCount == 1 }
                }
            }
            // Abandoned, not failed: nothing recorded, and the message is sent again later with the same webhook-id.
            #expect(try database.deliveries(subscriptionID: subscription.id).isEmpty)
            let pending = try #require(try database.pendingMessages().first)
            #expect(pending.messageID == message.messageID)
            #expect(pending.attempts == 0)
        }
    }

    @Test func testRefusedConnectionIsAQuickCleanFailure() async throws {
        let clock = ManualClock()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        let port = try Self.closedPort()
        let subscription = try database.createSubscription(url: "http://127.0.0.1:\(port)/hook", environments: ["production"], policy: .any)
        try self.enqueue(database)
        // The default 10 s timeout: an attempt that kept reconnecting until then would record "timed out after 10s".
        try await Fixtures.withHTTPClient { client in
            let deliverer = WebhookDeliverer(
                database: database,
                httpClient: client,
                configuration: .loopback,
                clock: clock,
                random: { 0.5 },
                logger: Fixtures.logger
            )
            try await Fixtures.withDeliverer(deliverer) {
                try await eventually("attempt", timeout: .seconds(30)) { try !database.deliveries(subscriptionID: subscription.id).isEmpty }
            }
        }
        let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).first)
        #expect(attempt.error == "connection refused")
        #expect(attempt.status == nil)
        #expect(attempt.result == "failed")
        // It ended with the refusal rather than at the deadline: the client did not keep reconnecting until then.
        #expect(attempt.durationSeconds < 10)
        // It backs off like any failure: 0.5 × 1 s.
        #expect(try database.pendingMessages().first?.nextAttemptAt == clock.now().addingTimeInterval(0.5))
    }

    /// A loopback port nobody listens on: bound, then closed.
    static func closedPort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
            }
        }
        guard bound else { throw SocketError() }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct SocketError: Error {}
