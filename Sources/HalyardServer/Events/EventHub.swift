//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardSync
import NIOCore
import Synchronization

/// Fans applied changes out to the SSE clients of each environment.
///
/// The watcher calls ``flagsApplied(_:)`` (the ``ChangeListener`` seam) after it swapped the store. The hub writes the
/// `flags-changed` event of each effectively changed environment once and hands the same bytes to every client of that
/// environment, so a change costs one encoding however many clients listen. It never blocks the watcher: each client
/// has a bounded buffer, and a client that falls that far behind is disconnected; it reconnects with `Last-Event-ID`
/// and gets one catch-up event instead of a backlog.
///
/// ```swift
/// let hub = EventHub()
/// let watcher = FlagWatcher(configuration: watch, store: store, database: database, listeners: [hub], logger: logger)
/// let api = HTTPAPI(configuration: http, store: store, watcher: watcher, database: database, events: hub,
///                   metricsRegistry: registry, logger: logger)
/// ```
public final class EventHub: ChangeListener, Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var subscribers: [String: [UInt64: AsyncStream<StreamMessage>.Continuation]] = [:]
        var isShutDown = false
    }

    private let state = Mutex(State())
    private let bufferSize: Int

    /// Creates a hub.
    ///
    /// - Parameter bufferSize: How many events a client may have waiting before it is disconnected.
    public init(bufferSize: Int = 64) {
        self.bufferSize = max(1, bufferSize)
    }

    /// The number of connected SSE clients, over all environments.
    public var clientCount: Int {
        state.withLock { $0.subscribers.values.reduce(0) { $0 + $1.count } }
    }

    /// Publishes the effectively changed environments of an applied commit.
    public func flagsApplied(_ change: AppliedChange) {
        for environment in change.changes.effectivelyChangedEnvironments {
            guard let changeSet = change.changes.environments[environment] else { continue }
            let continuations = state.withLock { Array(($0.subscribers[environment] ?? [:]).values) }
            guard !continuations.isEmpty else { continue }
            let event = StreamMessage.event(
                commit: change.commit,
                ServerSentEvent.flagsChanged(environment: environment, commit: change.commit, changes: changeSet)
            )
            for continuation in continuations {
                if case .dropped = continuation.yield(event) {
                    // The client is too far behind: close it so it reconnects and catches up with Last-Event-ID.
                    continuation.finish()
                }
            }
        }
    }

    /// Closes every stream, so that open SSE responses end and the server can shut down.
    public func shutdown() {
        let all = state.withLock { state in
            state.isShutDown = true
            defer { state.subscribers = [:] }
            return state.subscribers.values.flatMap(\.values)
        }
        for continuation in all { continuation.finish() }
    }

    /// Registers a client of one environment. The stream ends when the hub drops the client or ``shutdown()`` runs;
    /// finishing it (or dropping every reference to it) unregisters the client.
    func subscribe(environment: String) -> EventSubscription {
        let (stream, continuation) = AsyncStream<StreamMessage>.makeStream(bufferingPolicy: .bufferingOldest(bufferSize))
        let id: UInt64? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.nextID += 1
            state.subscribers[environment, default: [:]][state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return EventSubscription(stream: stream, continuation: continuation)
        }
        continuation.onTermination = { [weak self] _ in
            self?.unsubscribe(environment: environment, id: id)
        }
        return EventSubscription(stream: stream, continuation: continuation)
    }

    private func unsubscribe(environment: String, id: UInt64) {
        state.withLock { state in
            state.subscribers[environment]?[id] = nil
            if state.subscribers[environment]?.isEmpty == true {
                state.subscribers[environment] = nil
            }
        }
    }
}

/// What an SSE response writes next: an event (with the commit it announces) or a keep-alive comment.
enum StreamMessage: Sendable {
    case event(commit: String, ByteBuffer)
    case keepAlive
}

/// One client's registration with the ``EventHub``.
struct EventSubscription: Sendable {
    let stream: AsyncStream<StreamMessage>
    let continuation: AsyncStream<StreamMessage>.Continuation

    /// Ends the stream and unregisters the client.
    func finish() {
        continuation.finish()
    }
}
