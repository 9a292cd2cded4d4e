//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A hostile webhook receiver on loopback: it answers `200` at once with a long `Content-Length`, then sends the body one
/// byte every `interval`, so no read timeout ever fires (issue 9 point 4).
public final class TricklingReceiver: Sendable {
    private let server = Mutex<(group: ServiceGroup, task: Task<Void, any Error>)?>(nil)
    /// Ends the trickles in progress once the receiver stops.
    private let stopping = StopSignal()
    private let portValue = Mutex(0)
    private let started = Mutex(0)

    /// Starts the receiver on a free loopback port.
    public static func start(interval: Duration, length: Int = 10_000) async throws -> TricklingReceiver {
        let receiver = TricklingReceiver()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            _ = try await request.body.collect(upTo: 1 << 20)
            receiver.started.withLock { $0 += 1 }
            return Response(
                status: .ok,
                headers: [.contentLength: String(length)],
                body: ResponseBody(contentLength: length) { writer in
                    for _ in 0..<length {
                        try await writer.write(ByteBuffer(string: "x"))
                        await receiver.stopping.wait(atMost: interval)
                        if receiver.stopping.hasFired { throw CancellationError() }
                    }
                    try await writer.finish(nil)
                }
            )
        }
        var logger = Logger(label: "trickling-receiver")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        // Stopped gracefully, never by cancelling (see `TestReceiver.start`).
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        let task = Task { try await group.run() }
        receiver.server.withLock { $0 = (group, task) }
        for await port in ports {
            receiver.portValue.withLock { $0 = port }
        }
        return receiver
    }

    /// The URL to subscribe.
    public var url: String { "http://127.0.0.1:\(self.portValue.withLock { $0 })/hook" }

    /// How many requests it has started answering.
    public var requestCount: Int { self.started.withLock { $0 } }

    /// Ends the trickles in progress, then shuts the server down gracefully.
    public func stop() async {
        self.stopping.fire()
        guard let server = self.server.withLock({ $0 }) else { return }
        await server.group.triggerGracefulShutdown()
        _ = await server.task.result
    }

    /// Runs `body` with a started receiver, and stops it afterwards.
    public static func with<T>(interval: Duration, _ body: (TricklingReceiver) async throws -> T) async throws -> T {
        let receiver = try await Self.start(interval: interval)
        do {
            let result = try await body(receiver)
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }
}
