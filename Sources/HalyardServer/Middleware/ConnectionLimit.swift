//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// A counter of admitted things (connections, SSE streams) with a cap: admission fails rather than waits.
///
/// Hummingbird's own `MaximumAvailableConnections` stops accepting at its cap, which leaves new clients waiting in
/// the kernel's accept queue with no answer. DESIGN §13 wants a clear 503 with `Retry-After` instead, so Halyard
/// admits or refuses each connection and stream itself, through one of these.
final class AdmissionCounter: Sendable {
    /// The most admitted at once.
    let capacity: Int
    private let admitted = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// How many are admitted now.
    var count: Int { admitted.load(ordering: .relaxed) }

    /// Admits one more if there is room; returns whether it did.
    func tryAdmit() -> Bool {
        var current = admitted.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = admitted.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives back one admission.
    func release() {
        admitted.subtract(1, ordering: .relaxed)
    }
}

/// One admitted SSE stream; gives its place back once, when released or when dropped unreleased (a `HEAD` request
/// whose body never runs).
final class StreamAdmission: Sendable {
    private let counter: AdmissionCounter
    private let released = Atomic<Bool>(false)

    init(counter: AdmissionCounter) {
        self.counter = counter
    }

    /// Gives the place back; later calls do nothing.
    func release() {
        if !released.exchange(true, ordering: .relaxed) { counter.release() }
    }

    deinit { release() }
}

/// Caps the open connections of the server (`limits.maxConnections`, DESIGN §13).
///
/// One handler sits in every connection's pipeline, after HTTP decoding. When the connection opens it asks the
/// shared ``AdmissionCounter`` for a place; an admitted connection gives it back when it closes. A connection over the
/// cap is not served: its first request is answered `503` with `Retry-After` and `{"error": …}`, then the connection
/// is closed. So a client at the cap is told to come back, never left hanging.
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: AdmissionCounter
    private let retryAfterSeconds: Int
    private var decided = false
    private var admitted = false
    private var answered = false

    init(counter: AdmissionCounter, retryAfterSeconds: Int) {
        self.counter = counter
        self.retryAfterSeconds = retryAfterSeconds
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context: context)
        context.fireChannelActive()
    }

    private func admit(context: ChannelHandlerContext) {
        guard !decided else { return }
        decided = true
        admitted = counter.tryAdmit()
        if admitted {
            let counter = self.counter
            context.channel.closeFuture.whenComplete { _ in counter.release() }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !decided { admit(context: context) }
        guard !admitted else {
            context.fireChannelRead(data)
            return
        }
        // Over the cap: nothing reaches the application; the first request head gets the 503.
        guard case .head = unwrapInboundIn(data), !answered else { return }
        answered = true
        let body = ByteBuffer(
            string: #"{"error":"too many connections: the server is at limits.maxConnections; retry later"}"#
        )
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.retryAfter] = String(retryAfterSeconds)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
