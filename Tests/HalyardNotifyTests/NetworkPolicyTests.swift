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

/// Subscriber URLs that lead into private networks are refused at connect time (issue 9 point 6, DESIGN §13).
@Suite(.timeLimit(.minutes(2)))
struct NetworkPolicyTests {
    static let hint = "; set notify.allowPrivateNetworks to deliver to private networks"

    func enqueue(_ database: StateDatabase) throws {
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["new-checkout": ("f1", "f2")])],
            fetchedAt: Date()
        )
    }

    /// Subscribes `url`, runs one attempt with `configuration`, and returns that attempt and the pending message.
    func attempt(
        _ url: (TestReceiver) -> String,
        configuration: WebhookDeliverer.Configuration = .init(),
        receiver: TestReceiver
    ) async throws -> (attempt: DeliveryAttempt, pending: PendingMessage?, now: Date) {
        let clock = ManualClock()
        let database = try StateDatabase(path: Fixtures.databasePath(), clock: clock)
        let subscription = try database.createSubscription(url: url(receiver), environments: ["production"], policy: .any)
        try self.enqueue(database)
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
                try await eventually("attempt") { try !database.deliveries(subscriptionID: subscription.id).isEmpty }
            }
        }
        let attempt = try #require(try database.deliveries(subscriptionID: subscription.id).first)
        return (attempt, try database.pendingMessages().first, clock.now())
    }

    @Test(arguments: [
        ("http://127.0.0.1:{port}/hook", "refused: 127.0.0.1 is a loopback address" + Self.hint),
        ("http://[::1]:{port}/hook", "refused: ::1 is a loopback address" + Self.hint),
        ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address" + Self.hint),
        ("http://[::ffff:127.0.0.1]:{port}/hook", "refused: ::ffff:127.0.0.1 is a loopback address" + Self.hint),
        ("http://2130706433:{port}/hook", "refused: 2130706433 resolves to 127.0.0.1, a loopback address" + Self.hint),
        ("http://localhost:{port}/hook", "refused: localhost resolves to "),
    ])
    func testPrivateAddressesAreRefusedAndBackedOff(url: String, error: String) async throws {
        try await Fixtures.withReceiver { receiver in
            let result = try await self.attempt({ url.replacingOccurrences(of: "{port}", with: String($0.port)) }, receiver: receiver)
            #expect(receiver.requests.isEmpty)
            #expect(result.attempt.result == "failed")
            #expect(result.attempt.status == nil)
            #expect(result.attempt.error?.hasPrefix(error) == true, "\(result.attempt.error ?? "nil")")
            #expect(result.attempt.error?.hasSuffix(Self.hint) == true)
            // A refusal backs off like any failure: 0.5 × 1 s.
            #expect(result.pending?.attempts == 1)
            #expect(result.pending?.nextAttemptAt == result.now.addingTimeInterval(0.5))
        }
    }

    @Test func testAllowPrivateNetworksDelivers() async throws {
        try await Fixtures.withReceiver { receiver in
            let result = try await self.attempt(
                { "http://localhost:\($0.port)/hook" },
                configuration: .init(allowPrivateNetworks: true),
                receiver: receiver
            )
            #expect(result.attempt.result == "delivered")
            #expect(receiver.requests.count == 1)
        }
    }

    @Test func testConnectsToTheCheckedAddressWithoutASecondLookup() async throws {
        // The name exists only in this resolver, which answers once: if the HTTP client resolved it again (the window
        // DNS rebinding uses), the connection would fail.
        let lookups = LookupCounter()
        var configuration = WebhookDeliverer.Configuration()
        configuration.resolver = HostResolver { host in
            lookups.count(host)
            guard host == "hooks.halyard.invalid", lookups.total == 1 else { throw HostResolutionError(host: host, reason: "unknown") }
            return [IPAddress(strict: "127.0.0.1")!]
        }
        configuration.exemptRanges = [.loopback]
        try await Fixtures.withReceiver { receiver in
            let result = try await self.attempt({ "http://hooks.halyard.invalid:\($0.port)/hook" }, configuration: configuration, receiver: receiver)
            #expect(result.attempt.result == "delivered", "\(result.attempt.error ?? "")")
            let request = try #require(receiver.requests.first)
            #expect(request.headers["host"] == "hooks.halyard.invalid:\(receiver.port)")
            #expect(lookups.total == 1)
        }
    }

    @Test func testEveryResolvedAddressIsChecked() async throws {
        var configuration = WebhookDeliverer.Configuration()
        configuration.resolver = HostResolver { _ in [IPAddress(strict: "93.184.216.34")!, IPAddress(strict: "10.1.2.3")!] }
        try await Fixtures.withReceiver { receiver in
            let result = try await self.attempt({ _ in "https://hooks.halyard.invalid/hook" }, configuration: configuration, receiver: receiver)
            #expect(result.attempt.error == "refused: hooks.halyard.invalid resolves to 10.1.2.3, a private address" + Self.hint)
        }
    }

    @Test func testAllowedHostsAreCheckedAtDeliveryTime() async throws {
        try await Fixtures.withReceiver { receiver in
            // Created while any host was allowed; the list was narrowed since.
            let result = try await self.attempt(
                { $0.url() },
                configuration: .init(allowPrivateNetworks: true, allowedHosts: ["*.example.com"]),
                receiver: receiver
            )
            #expect(receiver.requests.isEmpty)
            #expect(result.attempt.error == "refused: host 127.0.0.1 is not in notify.allowedHosts")
            #expect(result.pending?.attempts == 1)
        }
    }

    @Test func testUnresolvableHostIsAFailure() async throws {
        try await Fixtures.withReceiver { receiver in
            let result = try await self.attempt({ _ in "http://hooks.halyard.invalid/hook" }, receiver: receiver)
            #expect(result.attempt.error?.hasPrefix("cannot resolve hooks.halyard.invalid: ") == true, "\(result.attempt.error ?? "")")
            #expect(result.attempt.result == "failed")
        }
    }

    @Test(arguments: [
        ("127.0.0.1", RestrictedRange?.some(.loopback)), ("127.255.0.9", .loopback), ("::1", .loopback),
        ("169.254.169.254", .linkLocal), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("10.0.0.1", .privateNetwork), ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("192.168.1.1", .privateNetwork), ("fc00::1", .privateNetwork), ("fd12:3456::1", .privateNetwork),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.1", .privateNetwork), ("::ffff:169.254.169.254", .linkLocal),
        ("::127.0.0.1", .loopback), ("64:ff9b::a9fe:a9fe", .linkLocal),
        ("8.8.8.8", nil), ("172.15.255.255", nil), ("172.32.0.1", nil), ("192.169.0.1", nil), ("169.255.0.1", nil),
        ("2001:4860:4860::8888", nil), ("fec0::1", .privateNetwork), ("::ffff:8.8.8.8", nil),
    ])
    func testAddressRanges(address: String, range: RestrictedRange?) throws {
        let parsed = try #require(IPAddress(strict: address))
        #expect(parsed.restrictedRange == range)
    }

    @Test func testOnlyStrictLiteralsParse() {
        // These reach 127.0.0.1 through a resolver, so they are resolved and checked like names.
        #expect(IPAddress(strict: "2130706433") == nil)
        #expect(IPAddress(strict: "0x7f.1") == nil)
        #expect(IPAddress(strict: "0177.0.0.1") == nil)
        #expect(IPAddress(strict: "[::1]") == nil)
        #expect(IPAddress(strict: "::ffff:127.0.0.1")?.description == "::ffff:127.0.0.1")
    }

    @Test func testSystemResolverUnderstandsNumericHosts() async throws {
        #expect(try await HostResolver.system.lookup("2130706433") == [IPAddress(strict: "127.0.0.1")!])
        #expect(try await HostResolver.system.lookup("0x7f.1") == [IPAddress(strict: "127.0.0.1")!])
    }
}

/// Counts resolver calls.
final class LookupCounter: Sendable {
    private let hosts = Mutex<[String]>([])

    func count(_ host: String) { self.hosts.withLock { $0.append(host) } }
    var total: Int { self.hosts.withLock { $0.count } }
}
