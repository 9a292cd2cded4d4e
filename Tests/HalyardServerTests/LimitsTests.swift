//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@testable import HalyardServer

/// A plain TCP connection to the server: raw HTTP in, raw bytes out, and a client that can stop reading.
final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Received

    private final class Received: Sendable {
        let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Received
        init(_ received: Received) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }
    }

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    /// Connects to `localhost:<port>`; `receiveBuffer` shrinks the socket's receive buffer (for a client that stops
    /// reading, so that the server's writes back up sooner).
    static func connect(port: Int, receiveBuffer: Int? = nil) async throws -> RawConnection {
        let received = Received()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received)) }
            }
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap.connect(host: "localhost", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// Sends text as it is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends `GET <path>` on a keep-alive connection.
    func get(_ path: String) async throws {
        try await send("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
    }

    /// Stops reading from the socket: the kernel's buffers fill and the server's writes back up.
    func stopReading() async throws {
        try await channel.setOption(.autoRead, value: false).get()
    }

    /// Everything received so far.
    var text: String { received.state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

    /// How many bytes arrived so far.
    var byteCount: Int { received.state.withLock { $0.bytes.count } }

    /// Reads from the socket again.
    func resumeReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    /// Whether the server closed the connection.
    var isClosed: Bool { received.state.withLock { $0.closed } }

    /// Waits until the received text contains `marker`.
    func waitFor(_ marker: String, timeout: Duration = .seconds(10)) async throws {
        try await eventually("the connection receives \(marker.debugDescription)", timeout: timeout) { self.text.contains(marker) }
    }

    /// Waits until the server closes the connection.
    func waitUntilClosed(timeout: Duration = .seconds(10)) async throws {
        try await eventually("the server closes the connection", timeout: timeout) { self.isClosed }
    }

    func close() {
        channel.close(promise: nil)
    }
}

extension ServerFixture {
    /// The application with the server `halyard serve` runs: idle timeout and connection cap included.
    func limitedApplication() -> some ApplicationProtocol {
        var logger = Logger(label: "halyard-server-tests")
        logger.logLevel = .critical
        return Application(router: api.makeRouter(), server: api.makeServer(), services: [watcher], logger: logger)
    }
}

/// The request and connection limits of DESIGN §13, each through the real server on loopback.
struct LimitsTests {
    // MARK: - Bodies

    @Test func testEvaluationBodiesOverTheContextLimitGet413() async throws {
        let limits = HTTPLimits(requestBody: 4_096, contextBody: 1_024)
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", limits: limits))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let over = #"{"context": {"blob": ""# + String(repeating: "x", count: 1_100) + #""}}"#
            let under = #"{"context": {"blob": ""# + String(repeating: "x", count: 900) + #""}}"#
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(over)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.error == "request body is larger than the limit of 1024 bytes")
            }
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(under)) { response in
                #expect(response.status == .ok)
            }
            for path in ["/environments/production/ofrep/v1/evaluate/flags/new-checkout", "/environments/production/ofrep/v1/evaluate/flags"] {
                try await client.execute(uri: path, method: .post, body: .string(over)) { response in
                    #expect(response.status == .contentTooLarge, "\(path)")
                    #expect(response.json["errorCode"] as? String == "GENERAL", "\(path)")
                    #expect((response.json["errorDetails"] as? String)?.contains("1024 bytes") == true, "\(path)")
                }
                try await client.execute(uri: path, method: .post, body: .string(under)) { response in
                    #expect(response.status == .ok, "\(path)")
                }
            }
            // Other routes keep limits.requestBody: 1,100 bytes is fine there, 5,000 is not.
            let subscription =
                #"{"url": "http://example.com/hook", "environments": ["production"], "note": ""# + String(repeating: "x", count: 1_100) + #""}"#
            try await client.execute(uri: "/v1/subscriptions", method: .post, headers: .bearer("admin-secret"), body: .string(subscription)) {
                response in
                #expect(response.status != .contentTooLarge, "\(response.text)")
            }
            let big = String(repeating: " ", count: 5_000) + "{}"
            try await client.execute(uri: "/v1/subscriptions", method: .post, headers: .bearer("admin-secret"), body: .string(big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.error == "request body is larger than the limit of 4096 bytes")
            }
        }
    }

    @Test func testNestingDeeperThan64Gets400() async throws {
        let fixture = try ServerFixture()
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            func body(depth: Int) -> String {
                // The body object and the context object are two levels; the attribute adds the rest.
                #"{"context": {"deep": "# + String(repeating: "[", count: depth - 2) + String(repeating: "]", count: depth - 2) + "}}"
            }
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(body(depth: 65))) { response in
                #expect(response.status == .badRequest)
                #expect(response.error?.contains("nested deeper than 64 levels") == true, "\(response.text)")
            }
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(body(depth: 64))) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
            let ofrep = "/environments/production/ofrep/v1/evaluate/flags/new-checkout"
            try await client.execute(uri: ofrep, method: .post, body: .string(body(depth: 65))) { response in
                #expect(response.status == .badRequest)
                #expect(response.json["errorCode"] as? String == "PARSE_ERROR")
            }
            try await client.execute(uri: ofrep, method: .post, body: .string(body(depth: 64))) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
        }
    }

    @Test func testContextsOverTheAttributeLimitGet400() async throws {
        let fixture = try ServerFixture()
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            func body(attributes: Int) -> String {
                #"{"context": {"# + (0..<attributes).map { #""a\#($0)": \#($0)"# }.joined(separator: ",") + "}}"
            }
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(body(attributes: 1_025))) { response in
                #expect(response.status == .badRequest)
                #expect(response.error == "context has 1025 attributes; the limit is 1024 (limits.contextAttributes)")
            }
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(body(attributes: 1_024))) { response in
                #expect(response.status == .ok)
            }
            for path in ["/environments/production/ofrep/v1/evaluate/flags/new-checkout", "/environments/production/ofrep/v1/evaluate/flags"] {
                try await client.execute(uri: path, method: .post, body: .string(body(attributes: 1_025))) { response in
                    #expect(response.status == .badRequest, "\(path)")
                    #expect(response.json["errorCode"] as? String == "INVALID_CONTEXT", "\(path)")
                }
                try await client.execute(uri: path, method: .post, body: .string(body(attributes: 1_024))) { response in
                    #expect(response.status == .ok, "\(path)")
                }
            }
        }
    }

    // MARK: - Streams

    @Test func testStreamsBeyondTheCapGet503WithRetryAfter() async throws {
        let limits = HTTPLimits(maxStreams: 2)
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(limits: limits, sseKeepAlive: .seconds(60)))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let first = EventStreamReader(port: port, path: "/v1/environments/production/stream")
            defer { first.close() }
            let second = EventStreamReader(port: port, path: "/environments/staging/ofrep/v1/events")
            defer { second.close() }
            try await first.waitUntilConnected()
            try await second.waitUntilConnected()

            try await client.execute(uri: "/v1/environments/production/stream", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.error?.contains("limits.maxStreams") == true, "\(response.text)")
            }
            try await client.execute(uri: "/environments/production/ofrep/v1/events", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.json["errorCode"] as? String == "GENERAL", "\(response.text)")
            }
            // Other routes are not affected, and a place comes back when a stream ends.
            try await client.execute(uri: "/v1/environments/production/flags", method: .get) { response in
                #expect(response.status == .ok)
            }
            first.close()
            try await eventually("the first stream's place is free") { fixture.api.streams.count == 1 }
            // HEAD never runs the stream body: it must not keep a place.
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/environments/production/stream", method: .head) { response in
                    #expect(response.status == .ok)
                }
            }
            try await eventually("HEAD requests keep no place") { fixture.api.streams.count == 1 }
            let third = EventStreamReader(port: port, path: "/v1/environments/production/stream")
            defer { third.close() }
            try await third.waitUntilConnected()
            #expect(third.status == 200)
            #expect(fixture.api.streams.count == 2)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func testAClientThatStopsReadingIsDroppedOnceItsBufferIsFull() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(sseKeepAlive: .seconds(60)))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let reading = try await RawConnection.connect(port: port)
            defer { reading.close() }
            try await reading.get("/v1/environments/production/stream")
            try await reading.waitFor(": connected")
            let stalled = try await RawConnection.connect(port: port, receiveBuffer: 4_096)
            defer { stalled.close() }
            try await stalled.get("/v1/environments/production/stream")
            try await stalled.waitFor(": connected")
            try await stalled.stopReading()
            try await eventually("both clients are subscribed") { fixture.hub.clientCount == 2 }
            try await eventually("three connections are open") { fixture.api.connections.count == 3 }

            // Events of about 200 KB each: the kernel's socket buffers absorb a few MB, then 1 MiB waits in the hub.
            let ids = (0..<10_000).map { "flag-\($0)-padding" }
            var expected = reading.byteCount
            var published = 0
            while fixture.hub.clientCount == 2, published < 200 {
                published += 1
                let commit = "c\(published)"
                fixture.hub.flagsApplied(Self.change(commit: commit, environment: "production", changed: ids))
                // The reading client keeps up: wait until it has the event, so that only the stalled one falls behind.
                expected +=
                    ServerSentEvent.flagsChanged(environment: "production", commit: commit, id: commit, added: [], removed: [], changed: ids)
                    .readableBytes
                try await eventually("the reading client receives \(commit)") { reading.byteCount >= expected }
            }
            #expect(fixture.hub.clientCount == 1, "the stalled client was not dropped after \(published) events")
            // Dropped means disconnected, not left open with its buffers: the server closes its side (the test client,
            // the reading client and the stalled one were open), and a client that reads again finds the end.
            try await eventually("the server closes the stalled connection") { fixture.api.connections.count == 2 }
            try await stalled.resumeReading()
            try await stalled.waitUntilClosed(timeout: .seconds(30))
            #expect(!reading.isClosed)
            fixture.hub.flagsApplied(Self.change(commit: "after", environment: "production", changed: ["x"]))
            try await reading.waitFor("id: after\n")
        }
    }

    @Test func testTheHubDropsAClientWithAMebibyteWaiting() async throws {
        let hub = EventHub()
        let subscription = hub.subscribe(environment: "production")
        // Each event is about 300 KB: three fit in 1 MiB, the fourth does not.
        let ids = (0..<19_000).map { "flag-\($0)-xx" }
        hub.flagsApplied(Self.change(commit: "c0", environment: "production", changed: ids))
        let size = subscription.buffered
        try #require(3 * size <= 1 << 20 && 4 * size > 1 << 20, "event size \(size)")
        for index in 1..<3 {
            hub.flagsApplied(Self.change(commit: "c\(index)", environment: "production", changed: ids))
            #expect(hub.clientCount == 1)
        }
        #expect(subscription.buffered == 3 * size)
        hub.flagsApplied(Self.change(commit: "c3", environment: "production", changed: ids))
        #expect(hub.clientCount == 0)
        var dropped = subscription.dropped.makeAsyncIterator()
        #expect(await dropped.next() == nil)

        // A client that keeps up gets events of any size, one at a time.
        let reading = hub.subscribe(environment: "production")
        let huge = (0..<60_000).map { "flag-\($0)-xx" }
        for index in 0..<3 {
            hub.flagsApplied(Self.change(commit: "h\(index)", environment: "production", changed: huge))
            var iterator = reading.stream.makeAsyncIterator()
            let message = try #require(await iterator.next())
            reading.written(message)
            #expect(reading.buffered == 0)
        }
        #expect(hub.clientCount == 1)
        hub.shutdown()
    }

    // MARK: - Connections

    @Test func testConnectionsBeyondTheCapGet503AndAreClosed() async throws {
        let limits = HTTPLimits(maxConnections: 3)
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(limits: limits))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            // The test client holds the first connection.
            try await eventually("the test client is connected") { fixture.api.connections.count == 1 }
            var open: [RawConnection] = []
            defer { for connection in open { connection.close() } }
            for _ in 0..<2 {
                let connection = try await RawConnection.connect(port: port)
                try await connection.get("/healthz")
                try await connection.waitFor("\r\n\r\n")
                #expect(connection.text.hasPrefix("HTTP/1.1 200"))
                open.append(connection)
            }
            #expect(fixture.api.connections.count == 3)

            let fourth = try await RawConnection.connect(port: port)
            defer { fourth.close() }
            try await fourth.get("/healthz")
            try await fourth.waitUntilClosed()
            #expect(fourth.text.hasPrefix("HTTP/1.1 503"), "\(fourth.text)")
            #expect(fourth.text.lowercased().contains("retry-after: 5\r\n"))
            #expect(fourth.text.contains(#"{"error":"too many connections"#))

            // The admitted connections still work, and closing one lets a new client in.
            try await open[0].get("/readyz")
            try await open[0].waitFor("HTTP/1.1 200", timeout: .seconds(5))
            open.removeLast().close()
            try await eventually("a connection place is free") { fixture.api.connections.count == 2 }
            #expect(fourth.isClosed)
            let fifth = try await RawConnection.connect(port: port)
            defer { fifth.close() }
            try await fifth.get("/healthz")
            try await fifth.waitFor("\r\n\r\n")
            #expect(fifth.text.hasPrefix("HTTP/1.1 200"), "\(fifth.text)")
        }
    }

    @Test func testAnIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        // 3 s leaves a loaded CI machine time to send the first request before the connection counts as idle.
        let limits = HTTPLimits(idleTimeout: .seconds(3))
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(limits: limits, sseKeepAlive: .milliseconds(500)))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            // Never sends a byte.
            let silent = try await RawConnection.connect(port: port)
            defer { silent.close() }
            // Sends one request, then nothing.
            let done = try await RawConnection.connect(port: port)
            defer { done.close() }
            try await done.get("/healthz")
            try await done.waitFor("\r\n\r\n")
            // A stream is not idle while it is being answered.
            let stream = try await RawConnection.connect(port: port)
            defer { stream.close() }
            try await stream.get("/v1/environments/production/stream")
            try await stream.waitFor(": connected")

            try await silent.waitUntilClosed(timeout: .seconds(20))
            try await done.waitUntilClosed(timeout: .seconds(20))
            // Eight keep-alives take 4 s, longer than the idle timeout.
            try await eventually("the stream sends 8 keep-alives") { stream.text.components(separatedBy: ": keep-alive").count > 8 }
            #expect(!stream.isClosed)
        }
    }

    static func change(commit: String, environment: String, changed: [String]) -> AppliedChange {
        AppliedChange(
            commit: commit,
            previousCommit: nil,
            changes: ChangeSet(environments: [environment: EnvironmentChangeSet(changed: changed)]),
            appliedAt: Date()
        )
    }
}
