import Foundation
import HTTPTypes
import HalyardTesting
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

/// `halyard serve` stops promptly on SIGTERM whatever a webhook receiver does (issue 9 point 4, issue 17 point 6).
///
/// The 5 s bound is the behaviour promised to orchestrators (a Kubernetes pod gets 30 s before SIGKILL, and a stop
/// must not depend on a receiver), so it is asserted on the real process.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WebhookShutdownTests {
    static let checkoutOn = #"{"active": true, "rules": [[]]}"#
    static let checkoutOff = #"{"active": false, "rules": [[]]}"#

    /// A repository with one production flag, subscribed to `url`, served; then a change that makes a webhook.
    func serveAndChange(subscribing url: String) async throws -> (fixture: ServeFixture, serve: HalyardServeProcess) {
        let fixture = try ServeFixture()
        try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
        let first = try fixture.workspace.commit("Add new-checkout")
        try fixture.writeConfig(subscribing: url, to: ["production"])
        let serve = try await fixture.serve(run: 1)
        try await serve.waitUntilApplied(first)
        try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
        let change = try fixture.workspace.commit("Switch new-checkout off")
        try await serve.waitUntilApplied(change)
        return (fixture, serve)
    }

    @Test func testSIGTERMExitsWithinFiveSecondsWhileAReceiverTrickles() async throws {
        // 200 at once, then one byte a second of a 10,000-byte body: no read timeout fires.
        let receiver = try await TricklingReceiver.start(interval: .seconds(1))
        do {
            let (fixture, serve) = try await self.serveAndChange(subscribing: receiver.url)
            defer {
                serve.kill()
                fixture.remove()
            }
            try await eventually("the receiver starts trickling\n\(serve.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
                receiver.requestCount == 1
            }
            let status = try await serve.terminate(timeout: .seconds(5))
            #expect(status == 0, "\(serve.log)")
            #expect(serve.log.contains("halyard stopped"))
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    @Test func testRefusedConnectionIsRecordedAtOnceAndSIGTERMDoesNotWait() async throws {
        // Nothing listens on the port: every attempt is refused.
        let port = try ClosedPort.find()
        let (fixture, serve) = try await self.serveAndChange(subscribing: "http://127.0.0.1:\(port)/hook")
        defer {
            serve.kill()
            fixture.remove()
        }
        let list = try await ServeHTTP.getJSON(serve.baseURL + "/v1/subscriptions", bearer: "test-admin-token")
        let id = try #require((list["subscriptions"] as? [[String: Any]])?.first?["id"] as? String)
        var first: [String: Any] = [:]
        // A connection that kept retrying would only be recorded after the 10 s timeout, as "timed out after 10s".
        try await eventually("a refused attempt is recorded\n\(serve.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
            let log = try await ServeHTTP.getJSON(serve.baseURL + "/v1/subscriptions/\(id)/deliveries", bearer: "test-admin-token")
            first = (log["deliveries"] as? [[String: Any]])?.last ?? [:]
            return !first.isEmpty
        }
        #expect(first["error"] as? String == "connection refused")
        #expect(first["result"] as? String == "failed")
        #expect(first["status"] is NSNull)
        // It ended with the refusal, not at the 10 s deadline of a client that kept reconnecting.
        #expect((first["durationSeconds"] as? Double ?? 10) < 10)
        let status = try await serve.terminate(timeout: .seconds(5))
        #expect(status == 0, "\(serve.log)")
    }
}

/// A loopback port nobody listens on.
enum ClosedPort {
    static func find() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(socket, raw, length) == 0 && getsockname(socket, raw, &length) == 0
            }
        }
        guard bound else { throw ServeError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
