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
            let baseline = lastEventID ?? state.lastChange[environment.name] ?? state.commit
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
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

    /// Runs one SSE client of `environment`, the loop both event streams (Halyard's and OFREP's) share.
    ///
    /// It subscribes to the hub before anything is read from the store, so a commit applied from then on is either in
    /// the catch-up or an event; it writes a `connected` comment, the catch-up event if any, then every event as
    /// `render` turns it into bytes (nil skips it), with keep-alive comments, until the client disconnects, the hub
    /// drops it or the server shuts down.
    func runEventStream(
        environment: String,
        request: Request,
        into writer: inout any ResponseBodyWriter,
        catchUp: () async -> (commit: String, event: ByteBuffer)?,
        render: @escaping (_ commit: String, _ hubEvent: ByteBuffer) -> ByteBuffer?
    ) async throws {
        let subscription = events.subscribe(environment: environment)
        sseClients.increment()
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
            sseClients.decrement()
        }
        let first = await catchUp()
        try await request.body.consumeWithInboundCloseHandler { _ in
            try await withGracefulShutdownHandler {
                try await writer.write(ServerSentEvent.connected)
                var lastSent: String?
                if let first {
                    try await writer.write(first.event)
                    lastSent = first.commit
                }
                for await message in subscription.stream {
                    switch message {
                    case .event(let commit, let bytes):
                        if commit == lastSent { continue }
                        lastSent = commit
                        if let rendered = render(commit, bytes) { try await writer.write(rendered) }
                    case .keepAlive:
                        try await writer.write(ServerSentEvent.keepAlive)
                    }
                }
            } onGracefulShutdown: {
                subscription.finish()
            }
        } onInboundClosed: {
            subscription.finish()
        }
        try await writer.finish(nil)
    }

    /// The event that brings a client from `baseline` to the served commit, or `nil` when it is up to date.
    ///
    /// A known commit gets the change read from git; an unknown one gets every current flag id in `changed`. A change
    /// that is not effective (the environment did not change since `baseline`) sends nothing.
    private func catchUp(environment: String, after baseline: String) async -> (commit: String, event: ByteBuffer)? {
        guard let state = store.current, let snapshot = state.snapshot.environments[environment] else { return nil }
        let current = state.lastChange[environment] ?? state.commit
        guard baseline != current, baseline != state.commit else { return nil }
        let event: ByteBuffer
        if baseline.utf8.count <= 64, let changes = await changesSince(baseline, environment) {
            guard changes.isEffective else { return nil }
            event = ServerSentEvent.flagsChanged(environment: environment, commit: current, changes: changes)
        } else {
            event = ServerSentEvent.flagsChanged(environment: environment, commit: current, added: [], removed: [], changed: snapshot.sortedIDs)
        }
        return (current, event)
    }
}
