//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers the hot read routes on the connection's event loop, before a request reaches Hummingbird's router.
///
/// A polling client's `GET /v1/environments/{env}/flags` (200 or 304), a single `/evaluate` and an OFREP evaluation
/// cost a few microseconds to answer, but taking them through Swift concurrency costs several times that: each request
/// wakes a task on another thread, builds a request context, runs the router and the middleware, and hands the response
/// back to the event loop. This handler sits in each connection's pipeline after the connection limit and the idle
/// timeout handlers, recognises those routes by method and path, reads the body, and writes the answer that the route
/// computes (the same functions: ``HTTPAPI/flagsListing(environment:headers:)`` and its siblings), with the `Date` and
/// `Server` headers that Hummingbird adds, and counts it in `halyard_http_requests_total` under the same route label.
///
/// Anything else goes on to the router unchanged, and so does every request that fails (an unknown environment, a bad
/// token, a bad or oversized body, not ready yet): the handler replays the parts it held back, and the router answers
/// with its usual error. A request is only answered here when no earlier request of the connection is still being
/// answered by the router, so answers keep the order of their requests. `HEAD`, a query string, a `Connection` header
/// and anything unusual take the router's path too.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A route this handler answers.
    enum Route {
        case flags(environment: String)
        case evaluate(environment: String)
        case ofrepFlag(environment: String, key: String)
        case ofrepAll(environment: String)

        /// The route pattern, as the router labels the request metrics.
        var pattern: String {
            switch self {
            case .flags: "/v1/environments/{env}/flags"
            case .evaluate: "/v1/environments/{env}/evaluate"
            case .ofrepFlag: "/environments/{env}/ofrep/v1/evaluate/flags/{key}"
            case .ofrepAll: "/environments/{env}/ofrep/v1/evaluate/flags"
            }
        }
    }

    private enum State {
        /// Between requests.
        case idle
        /// The router answers the current request: its parts go on.
        case forwarding
        /// This handler answers the current request: its parts are held back until its end.
        case holding(Route, HTTPRequest, body: ByteBuffer?)
    }

    private let api: HTTPAPI
    private var state = State.idle
    /// The `Date` header of the current second, and that second.
    private var date = (second: -1, text: "")
    /// Requests passed on to the router whose answer has not ended yet.
    private var routerRequests = 0

    init(api: HTTPAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            if routerRequests == 0, let route = Self.route(of: head) {
                state = .holding(route, head, body: nil)
            } else {
                routerRequests += 1
                state = .forwarding
                context.fireChannelRead(data)
            }
        case (.holding(let route, let head, var body), .body(let chunk)):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > api.configuration.limits.contextBody {
                // Too large for an evaluation: the router answers 413.
                replay(context: context, head: head, body: body)
                context.fireChannelRead(data)
                return
            }
            state = .idle  // drop the reference before appending, so the buffer is not copied
            if body == nil { body = chunk } else { body!.writeImmutableBuffer(chunk) }
            state = .holding(route, head, body: body)
        case (.holding(let route, let head, let body), .end):
            state = .idle
            if let answer = answer(route, head: head, body: body ?? ByteBuffer()) {
                write(answer, route: route, context: context)
            } else {
                replay(context: context, head: head, body: body)
                state = .idle
                context.fireChannelRead(data)
            }
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), routerRequests > 0 { routerRequests -= 1 }
        context.write(data, promise: promise)
    }

    /// Passes a held-back request on to the router.
    private func replay(context: ChannelHandlerContext, head: HTTPRequest, body: ByteBuffer?) {
        routerRequests += 1
        state = .forwarding
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    /// The answer of the route, or `nil` when the router should answer (an error of any kind).
    private func answer(_ route: Route, head: HTTPRequest, body: ByteBuffer) -> Answer? {
        do {
            switch route {
            case .flags(let environment):
                return try api.flagsListing(environment: environment, headers: head.headerFields)
            case .evaluate(let environment):
                let (state, target) = try api.readTarget(environment: environment, headers: head.headerFields)
                return try api.evaluate(body: body, in: target, state: state)
            case .ofrepFlag(let environment, let key):
                let (state, flag) = try api.ofrepTarget(key: key, environment: environment, headers: head.headerFields)
                return try api.ofrepEvaluate(key: key, flag: flag, state: state, body: body)
            case .ofrepAll(let environment):
                let (state, target) = try api.readTarget(environment: environment, headers: head.headerFields)
                return try api.ofrepEvaluateAll(target, state: state, headers: head.headerFields, body: body)
            }
        } catch {
            return nil
        }
    }

    private func write(_ answer: Answer, route: Route, context: ChannelHandlerContext) {
        var head = HTTPResponse(status: answer.status)
        head.headerFields = answer.response.headers
        let now = HTTPDate.now
        if date.second != now { date = (now, HTTPDate.format(now)) }
        head.headerFields[.date] = date.text
        if let serverName = api.configuration.serverName { head.headerFields[.server] = serverName }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        api.requestCounters.increment(route: route.pattern, status: answer.status.code)
    }

    // MARK: - Matching

    /// The route of a request head, if this handler answers it: exact paths without a query, an environment name and
    /// flag key of the plain characters DESIGN §1 allows, no `Connection` header.
    static func route(of head: HTTPRequest) -> Route? {
        guard head.headerFields[.connection] == nil, let path = head.path,
            !path.utf8.contains(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "%") })
        else {
            return nil
        }
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        // "/a/b" splits into "", "a", "b".
        guard parts.count >= 4, parts[0].isEmpty else { return nil }
        func text(_ index: Int) -> String? {
            let part = parts[index]
            guard !part.isEmpty, part.allSatisfy(isPlain) else { return nil }
            return String(Substring(part))
        }
        func equals(_ index: Int, _ literal: StaticString) -> Bool {
            parts[index].elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
        switch head.method {
        case .get:
            // /v1/environments/{env}/flags
            guard parts.count == 5, equals(1, "v1"), equals(2, "environments"), equals(4, "flags"), let environment = text(3)
            else { return nil }
            return .flags(environment: environment)
        case .post:
            if parts.count == 5, equals(1, "v1"), equals(2, "environments"), equals(4, "evaluate"), let environment = text(3) {
                return .evaluate(environment: environment)
            }
            // /environments/{env}/ofrep/v1/evaluate/flags[/{key}]
            guard parts.count == 7 || parts.count == 8, equals(1, "environments"), equals(3, "ofrep"), equals(4, "v1"),
                equals(5, "evaluate"), equals(6, "flags"), let environment = text(2)
            else { return nil }
            if parts.count == 7 { return .ofrepAll(environment: environment) }
            guard let key = text(7) else { return nil }
            return .ofrepFlag(environment: environment, key: key)
        default:
            return nil
        }
    }

    /// Letters, digits, `.`, `_` and `-`: every character an environment name or flag id may have.
    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
