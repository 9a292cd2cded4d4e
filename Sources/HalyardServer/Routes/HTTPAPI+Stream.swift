//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardSync
import Hummingbird
import NIOCore
import Prometheus
import ServiceLifecycle

/// `GET /v1/environments/{env}/stream`: server-sent `flags-changed` events for one environment.
extension HTTPAPI {
    func addStreamRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/v1/environments/{env}/stream") { request, context in
            try self.authorizeRead(request)
            let state = try self.servedState()
            let environment = try self.environment(context, in: state)
            // What the client has seen: its Last-Event-ID, or else the environment as served right now.
            let lastEventID = request.headers[.lastEventID].map { String(Substring($0).trimmingSpaces) }.flatMap { $0.isEmpty ? nil : $0 }
            let baseline = lastEventID ?? self.streamEventID(environment: environment.name, in: state).description
            let admission = try self.admitStream()
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    defer { admission.release() }
                    try await self.stream(environment: environment.name, after: baseline, request: request, into: &writer)
                }
            )
        }
    }

    /// Writes the events of one client until it disconnects, the hub drops it or the server shuts down.
    private func stream(environment: String, after baseline: String, request: Request, into writer: inout any ResponseBodyWriter) async throws {
        try await runEventStream(
            environment: environment,
            request: request,
            into: &writer,
            catchUp: { await self.catchUp(environment: environment, after: baseline) },
            render: { _, bytes in bytes }
        )
    }

    /// A place for one more SSE stream, or 503 with `Retry-After` when `limits.maxStreams` are open.
    ///
    /// The place is given back when the stream ends (or, for a `HEAD` request whose body never runs, when the response
    /// is discarded).
    func admitStream() throws(APIError) -> StreamAdmission {
        guard streams.tryAdmit() else {
            throw APIError(
                .serviceUnavailable,
                "too many event streams: the server is at limits.maxStreams (\(streams.capacity)); retry later",
                headers: [.retryAfter: String(configuration.limits.retryAfterSeconds)]
            )
        }
        return StreamAdmission(counter: streams)
    }

    /// Runs one SSE client of `environment`, the loop both event streams (Halyard's and OFREP's) share.
    ///
    /// It subscribes to the hub before anything is read from the store, so a commit applied from then on is either in
    /// the catch-up or an event; it writes a `connected` comment, the catch-up event if any, then every event as
    /// `render` turns it into bytes (nil skips it), with keep-alive comments, until the client disconnects, the hub
    /// drops it or the server shuts down.
    ///
    /// A client that stops reading is dropped by the hub once 1 MiB of events waits for it (``EventHub``). The write
    /// it is stuck in is then cancelled and the function throws, so the connection is closed rather than kept open
    /// with its buffers.
    func runEventStream(
        environment: String,
        request: Request,
        into writer: inout any ResponseBodyWriter,
        catchUp: () async -> (id: String, event: ByteBuffer)?,
        render: @escaping @Sendable (_ id: String, _ hubEvent: ByteBuffer) -> ByteBuffer?
    ) async throws {
        sseClients.increment()
        let subscription = events.subscribe(environment: environment) { [sseClients] in sseClients.decrement() }
        let keepAlive = Task { [interval = configuration.sseKeepAlive, continuation = subscription.continuation] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                if case .terminated = continuation.yield(.keepAlive) { break }
            }
        }
        defer {
            keepAlive.cancel()
            subscription.finish()
        }
        let first = await catchUp()
        let box = WriterBox(writer)
        let wasDropped = try await request.body.consumeWithInboundCloseHandler { _ in
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await Self.writeEvents(of: subscription, first: first, render: render, into: box)
                        return false
                    }
                    group.addTask {
                        for await _ in subscription.dropped {}
                        return !Task.isCancelled
                    }
                    defer { group.cancelAll() }
                    return try await group.next() ?? false
                }
            } onGracefulShutdown: {
                subscription.finish()
            }
        } onInboundClosed: {
            subscription.finish()
        }
        writer = box.writer
        if wasDropped { throw StreamDropped() }
        try await writer.finish(nil)
    }

    /// The writing half of ``runEventStream(environment:request:into:catchUp:render:)``.
    private static func writeEvents(
        of subscription: EventSubscription,
        first: (id: String, event: ByteBuffer)?,
        render: (_ id: String, _ hubEvent: ByteBuffer) -> ByteBuffer?,
        into box: WriterBox
    ) async throws {
        try await box.writer.write(ServerSentEvent.connected)
        var lastSent: String?
        if let first {
            try await box.writer.write(first.event)
            lastSent = first.id
        }
        for await message in subscription.stream {
            switch message {
            case .event(let id, let bytes):
                if id != lastSent {
                    lastSent = id
                    if let rendered = render(id, bytes) { try await box.writer.write(rendered) }
                }
            case .keepAlive:
                try await box.writer.write(ServerSentEvent.keepAlive)
            }
            subscription.written(message)
        }
    }

    /// The event that brings a client from `baseline` to the served commit, or `nil` when it is up to date.
    ///
    /// A known commit gets the change read from git; an unknown one gets every current flag id in `changed`. A change
    /// that is not effective (the environment did not change since `baseline`) sends nothing.
    ///
    /// Overrides change what is served without a commit: when the client's id carries other overrides than are in
    /// effect now (``StreamEventID``), it gets every current flag id in `changed`, as for an unknown commit.
    private func catchUp(environment: String, after baseline: String) async -> (id: String, event: ByteBuffer)? {
        guard let state = store.current, let snapshot = state.snapshot.environments[environment] else { return nil }
        let current = streamEventID(environment: environment, in: state)
        let seen = StreamEventID(parsing: baseline)
        guard !isCurrent(seen, environment: environment, in: state) else { return nil }
        let id = current.description
        let event: ByteBuffer
        if seen.mark == current.mark, seen.commit.utf8.count <= 64, let changes = await changesSince(seen.commit, environment) {
            guard changes.isEffective else { return nil }
            event = ServerSentEvent.flagsChanged(environment: environment, commit: current.commit, id: id, changes: changes)
        } else {
            event = ServerSentEvent.flagsChanged(
                environment: environment,
                commit: current.commit,
                id: id,
                added: [],
                removed: [],
                changed: snapshot.sortedIDs
            )
        }
        return (id, event)
    }

    /// The id of the event that announced what `environment` serves now: its last change, marked with the overrides in
    /// effect there.
    func streamEventID(environment: String, in state: ServedState) -> StreamEventID {
        let mark = overrides.flatMap { StreamEventID.marks(of: $0.overridesInEffect)[environment] }
        return StreamEventID(commit: state.lastChange[environment] ?? state.commit, mark: mark)
    }

    /// Whether a client that saw `seen` has seen what `environment` serves now: the same overrides, and the last change
    /// or the served commit.
    func isCurrent(_ seen: StreamEventID, environment: String, in state: ServedState) -> Bool {
        let current = streamEventID(environment: environment, in: state)
        return seen.mark == current.mark && (seen.commit == current.commit || seen.commit == state.commit)
    }
}

/// Thrown when the hub dropped a client that stopped reading, so that Hummingbird closes the connection.
struct StreamDropped: Error, CustomStringConvertible {
    var description: String { "SSE client dropped: it stopped reading its stream" }
}

/// Holds a response writer while a child task writes with it.
///
/// `@unchecked Sendable` because exactly one task uses the writer at a time: the writing child task of
/// ``HTTPAPI/runEventStream(environment:request:into:catchUp:render:)`` while the parent waits for the task group, then
/// the parent again.
final class WriterBox: @unchecked Sendable {
    var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }
}
