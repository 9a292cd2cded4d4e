import Synchronization

/// The flags being served, swapped atomically: readers see one whole commit or the next, never half of one.
///
/// Reads take a lock only long enough to copy a reference-counted value, so evaluation never waits on an apply.
public final class FlagStore: Sendable {
    private let state = Mutex<ServedState?>(nil)
    private let watcherStatus = Mutex(WatcherStatus())

    /// Creates an empty store: nothing is served until the watcher applies a snapshot.
    public init() {}

    /// The served state, or `nil` before the first snapshot is applied.
    public var current: ServedState? { state.withLock { $0 } }

    /// The watcher's status.
    public var status: WatcherStatus { watcherStatus.withLock { $0 } }

    /// Replaces the served state.
    public func apply(_ newState: ServedState) {
        state.withLock { $0 = newState }
    }

    /// Changes the watcher status.
    public func updateStatus(_ body: (inout WatcherStatus) -> Void) {
        watcherStatus.withLock { body(&$0) }
    }
}
