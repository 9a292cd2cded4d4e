//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server on a loopback port that records webhook requests and answers as the test scripts.
public final class TestReceiver: Sendable {
    /// One request as the receiver saw it.
    public struct Received: Sendable {
        /// The request path.
        public var path: String
        /// Header values by lower-cased name.
        public var headers: [String: String]
        /// The raw body.
        public var body: [UInt8]
        /// When it arrived.
        public var receivedAt: Date

        /// The body as UTF-8 text.
        public var bodyString: String { String(decoding: self.body, as: UTF8.self) }
        /// The body parsed as a JSON object.
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any] }
    }

    /// How to answer one request.
    public struct Reply: Sendable {
        /// The status code.
        public var status: Int
        /// Response headers by name.
        public var headers: [String: String]
        /// Wait this long before answering (to simulate a hanging receiver); ``TestReceiver/stop()`` ends the wait.
        public var delay: Duration?

        /// A reply with `status` (204 by default), `headers` and an optional `delay`.
        public init(status: Int = 204, headers: [String: String] = [:], delay: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.delay = delay
        }

        /// `204 No Content` at once.
        public static let ok = Reply()
        /// Never answers while the receiver runs: the request hangs until ``TestReceiver/stop()``.
        public static let hang = Reply(delay: .seconds(3600))
        /// `status` with `headers`, at once.
        public static func status(_ status: Int, headers: [String: String] = [:]) -> Reply { Reply(status: status, headers: headers) }
    }

    /// Decides the reply to the `index`-th request (from 0).
    public typealias Handler = @Sendable (_ request: Received, _ index: Int) async -> Reply

    private let received = Mutex<[Received]>([])
    private let handler: Handler
    private let server = Mutex<(group: ServiceGroup, task: Task<Void, any Error>)?>(nil)
    private let portValue = Mutex<Int>(0)
    /// Ends the delays of replies in progress once the receiver stops.
    private let stopping = StopSignal()
    private let connections = ConnectionCount()

    private init(handler: @escaping Handler) {
        self.handler = handler
    }

    /// Starts a receiver on 127.0.0.1 with a free port.
    public static func start(handler: @escaping Handler = { _, _ in .ok }) async throws -> TestReceiver {
        let receiver = TestReceiver(handler: handler)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await receiver.respond(to: request)
        }
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .critical
        let connections = receiver.connections
        let app = Application(
            responder: responder,
            server: HTTPServerBuilder { responder in CountedHTTP1Channel(base: HTTP1Channel(responder: responder), count: connections) },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        // Stopped by a graceful shutdown, never by cancelling: cancelling drops connections accepted but not yet
        // handled, and NIO traps on their unfinished writers ("Deinited NIOAsyncWriter without calling finish()").
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        let task = Task { try await group.run() }
        receiver.server.withLock { $0 = (group, task) }
        var port = 0
        for await value in ports {
            port = value
        }
        receiver.portValue.withLock { $0 = port }
        return receiver
    }

    /// The bound port.
    public var port: Int { self.portValue.withLock { $0 } }

    /// The URL of a path on this receiver.
    public func url(_ path: String = "/hook") -> String {
        "http://127.0.0.1:\(self.port)\(path)"
    }

    /// Every request received so far.
    public var requests: [Received] { self.received.withLock { $0 } }

    /// The connections open now. A connection is counted from when it is accepted until it closed and every request
    /// on it was answered, so `openConnections == 0` after a client died means its last requests were recorded.
    public var openConnections: Int { self.connections.value.withLock { $0 } }

    /// The connections accepted since the start, open or closed: a client that reuses its connection adds none.
    public var acceptedConnections: Int { self.connections.accepted.withLock { $0 } }

    /// The requests received on one path.
    public func requests(path: String) -> [Received] {
        self.requests.filter { $0.path == path }
    }

    /// Ends the delays of replies in progress, then shuts the server down gracefully: it stops accepting, answers what
    /// it has accepted, and returns once every connection is closed.
    public func stop() async {
        self.stopping.fire()
        guard let server = self.server.withLock({ $0 }) else { return }
        await server.group.triggerGracefulShutdown()
        _ = await server.task.result
    }

    private func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        // HTTP/1 `Host` arrives as the `:authority` pseudo-header.
        if let authority = request.head.authority {
            headers["host"] = authority
        }
        let received = Received(
            path: request.uri.path,
            headers: headers,
            body: Array(buffer: body),
            receivedAt: Date()
        )
        let index = self.received.withLock { list in
            list.append(received)
            return list.count - 1
        }
        let reply = await self.handler(received, index)
        if let delay = reply.delay {
            await self.stopping.wait(atMost: delay)
        }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let name = HTTPField.Name(name) {
                fields[name] = value
            }
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: fields)
    }
}

/// The number of open connections of a ``TestReceiver``.
private final class ConnectionCount: Sendable {
    let value = Mutex(0)
    let accepted = Mutex(0)
}

/// Hummingbird's HTTP/1 connection handling, counting each connection while it is open.
private struct CountedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let count: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        self.base.setup(channel: channel, logger: logger).map { value in
            self.count.value.withLock { $0 += 1 }
            self.count.accepted.withLock { $0 += 1 }
            return value
        }
    }

    /// Returns once the connection closed and every request on it was answered.
    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
        self.count.value.withLock { $0 -= 1 }
    }
}

/// A one-shot signal: ``wait(atMost:)`` returns after its duration, or at once when the signal has fired or fires.
public final class StopSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A signal that has not fired yet.
    public init() {}

    /// Fires the signal: every wait in progress and every later one returns at once.
    public func fire() {
        let waiters = self.state.withLock { state in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Whether the signal has fired.
    public var hasFired: Bool { self.state.withLock { $0.fired } }

    /// Returns after `duration`, when the signal fires, or when the task is cancelled, whichever comes first.
    public func wait(atMost duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.waitForFire() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForFire() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
