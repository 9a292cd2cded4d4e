//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// A real HTTP server on a loopback port that records webhook requests and answers as the test scripts.
final class TestReceiver: Sendable {
    /// One request as the receiver saw it.
    struct Received: Sendable {
        var path: String
        /// Header values by lower-cased name.
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: Date

        var bodyString: String { String(decoding: self.body, as: UTF8.self) }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any] }
    }

    /// How to answer one request.
    struct Reply: Sendable {
        var status: Int = 204
        var headers: [String: String] = [:]
        /// Wait this long before answering (to simulate a hanging receiver).
        var delay: Duration?

        static let ok = Reply()
        static func status(_ status: Int, headers: [String: String] = [:]) -> Reply { Reply(status: status, headers: headers) }
    }

    typealias Handler = @Sendable (_ request: Received, _ index: Int) async -> Reply

    private let received = Mutex<[Received]>([])
    private let handler: Handler
    private let task = Mutex<Task<Void, any Error>?>(nil)
    private let portValue = Mutex<Int>(0)

    private init(handler: @escaping Handler) {
        self.handler = handler
    }

    /// Starts a receiver on 127.0.0.1 with a free port.
    static func start(handler: @escaping Handler = { _, _ in .ok }) async throws -> TestReceiver {
        let receiver = TestReceiver(handler: handler)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await receiver.respond(to: request)
        }
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        receiver.task.withLock { $0 = task }
        var port = 0
        for await value in ports {
            port = value
        }
        receiver.portValue.withLock { $0 = port }
        return receiver
    }

    var port: Int { self.portValue.withLock { $0 } }

    /// The URL of a path on this receiver.
    func url(_ path: String = "/hook") -> String {
        "http://127.0.0.1:\(self.port)\(path)"
    }

    /// Every request received so far.
    var requests: [Received] { self.received.withLock { $0 } }

    /// The requests received on one path.
    func requests(path: String) -> [Received] {
        self.requests.filter { $0.path == path }
    }

    func stop() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        _ = await task?.result
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
            try? await Task.sleep(for: delay)
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
