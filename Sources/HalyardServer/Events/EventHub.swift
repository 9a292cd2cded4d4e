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
/// has a bounded buffer, counted in bytes (DESIGN §13: 1 MiB) and in events, and a client that falls that far behind
/// (one that stopped reading its stream) is dropped: its stream ends and its connection is closed. It reconnects with
/// `Last-Event-ID` and gets one catch-up event instead of a backlog.
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
        var subscribers: [String: [UInt64: EventSubscription]] = [:]
        var isShutDown = false
    }

    private let state = Mutex(State())
    private let bufferSize: Int
    private let maxBufferedBytes: Int

    /// Creates a hub.
    ///
    /// - Parameters:
    ///   - bufferSize: How many events a client may have waiting before it is dropped.
    ///   - maxBufferedBytes: How many bytes of events a client may have waiting (queued here, or being written to its
    ///     connection) before it is dropped. An event that alone is larger still reaches a client with nothing waiting.
    public init(bufferSize: Int = 4_096, maxBufferedBytes: Int = 1 << 20) {
        self.bufferSize = max(1, bufferSize)
        self.maxBufferedBytes = max(1, maxBufferedBytes)
    }

    /// The number of connected SSE clients, over all environments.
    public var clientCount: Int {
        state.withLock { $0.subscribers.values.reduce(0) { $0 + $1.count } }
    }

    /// Publishes the effectively changed environments of an applied commit.
    public func flagsApplied(_ change: AppliedChange) {
        for environment in change.changes.effectivelyChangedEnvironments {
            guard let changeSet = change.changes.environments[environment] else { continue }
            let subscriptions = state.withLock { Array(($0.subscribers[environment] ?? [:]).values) }
            guard !subscriptions.isEmpty else { continue }
            let id = change.eventID(environment: environment).description
            let event = StreamMessage.event(
                id: id,
                ServerSentEvent.flagsChanged(environment: environment, commit: change.commit, id: id, changes: changeSet)
            )
            for subscription in subscriptions {
                subscription.offer(event, maxBufferedBytes: maxBufferedBytes)
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
        for subscription in all { subscription.finish() }
    }

    /// Registers a client of one environment. The stream ends when the hub drops the client or ``shutdown()`` runs;
    /// finishing it (or dropping every reference to it) unregisters the client.
    ///
    /// - Parameter onEnd: Called once when the client is unregistered, just before ``clientCount`` drops (so a gauge
    ///   kept with it never lags behind the count).
    func subscribe(environment: String, onEnd: @escaping @Sendable () -> Void = {}) -> EventSubscription {
        let (stream, continuation) = AsyncStream<StreamMessage>.makeStream(bufferingPolicy: .bufferingOldest(bufferSize))
        let subscription = EventSubscription(stream: stream, continuation: continuation)
        let id: UInt64? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.nextID += 1
            state.subscribers[environment, default: [:]][state.nextID] = subscription
            return state.nextID
        }
        guard let id else {
            subscription.finish()
            onEnd()
            return subscription
        }
        continuation.onTermination = { [weak self] _ in
            onEnd()
            self?.unsubscribe(environment: environment, id: id)
        }
        return subscription
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

/// What an SSE response writes next: an event (with its id, ``StreamEventID``) or a keep-alive comment.
enum StreamMessage: Sendable {
    case event(id: String, ByteBuffer)
    case keepAlive

    /// The bytes the hub counts against a client's buffer: an event's encoding; keep-alives are not counted.
    var size: Int {
        switch self {
        case .event(_, let bytes): bytes.readableBytes
        case .keepAlive: 0
        }
    }
}

/// One client's registration with the ``EventHub``: its queue of messages, and the bytes it has waiting.
///
/// The hub adds an event's size when it queues the event; the SSE writer subtracts it once the event is written to
/// the connection (``written(_:)``). When queueing would pass the byte limit, the client is dropped: its stream ends
/// and ``dropped`` finishes, which tells the writer to abandon a write that the client is not reading.
final class EventSubscription: Sendable {
    let stream: AsyncStream<StreamMessage>
    let continuation: AsyncStream<StreamMessage>.Continuation
    /// Ends (without an element) when the hub drops the client.
    let dropped: AsyncStream<Never>
    private let dropContinuation: AsyncStream<Never>.Continuation
    private let bufferedBytes = Atomic<Int>(0)

    init(stream: AsyncStream<StreamMessage>, continuation: AsyncStream<StreamMessage>.Continuation) {
        self.stream = stream
        self.continuation = continuation
        (dropped, dropContinuation) = AsyncStream<Never>.makeStream()
    }

    /// The bytes of events queued for the client or being written to it.
    var buffered: Int { bufferedBytes.load(ordering: .relaxed) }

    /// Queues an event, or drops the client when it has too much waiting already.
    func offer(_ message: StreamMessage, maxBufferedBytes: Int) {
        let size = message.size
        let before = bufferedBytes.wrappingAdd(size, ordering: .relaxed).oldValue
        if before > 0, before + size > maxBufferedBytes {
            bufferedBytes.subtract(size, ordering: .relaxed)
            drop()
            return
        }
        switch continuation.yield(message) {
        case .enqueued:
            break
        case .dropped:
            bufferedBytes.subtract(size, ordering: .relaxed)
            drop()
        case .terminated:
            bufferedBytes.subtract(size, ordering: .relaxed)
        @unknown default:
            break
        }
    }

    /// Records that a message taken from ``stream`` has been written (or skipped).
    func written(_ message: StreamMessage) {
        let size = message.size
        if size > 0 { bufferedBytes.subtract(size, ordering: .relaxed) }
    }

    /// Ends the stream and unregisters the client.
    func finish() {
        continuation.finish()
    }

    /// Ends the stream and tells the writer to close the connection.
    func drop() {
        continuation.finish()
        dropContinuation.finish()
    }
}
