import HalyardRules
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The snapshot being served, with when it was applied and each environment's last effective change.
public struct ServedState: Sendable {
    /// The applied snapshot. Its `commit` is never nil.
    public let snapshot: Snapshot
    /// When the snapshot was applied.
    public let appliedAt: Date
    /// For each environment, the commit of its last effective change (or the first applied commit).
    public let lastChange: [String: String]

    public init(snapshot: Snapshot, appliedAt: Date, lastChange: [String: String]) {
        self.snapshot = snapshot
        self.appliedAt = appliedAt
        self.lastChange = lastChange
    }

    /// The applied commit.
    public var commit: String { snapshot.commit ?? "" }
}

/// A commit that failed validation, kept visible until a newer commit applies.
///
/// It keeps at most the first ``maximumErrors`` diagnostics and the count of all: a commit with a hundred thousand bad
/// files must not make `/v1/status` (or the memory behind it) that large.
public struct Rejection: Sendable, Equatable {
    /// How many diagnostics a rejection keeps.
    public static let maximumErrors = 100

    /// The rejected commit.
    public let commit: String
    /// When it was rejected.
    public let at: Date
    /// The first ``maximumErrors`` diagnostics, in the validator's order.
    public let errors: [Diagnostic]
    /// How many diagnostics the commit had in all.
    public let errorCount: Int

    /// Creates a rejection from all of the commit's diagnostics; it keeps the first ``maximumErrors``.
    public init(commit: String, at: Date, errors: [Diagnostic]) {
        self.commit = commit
        self.at = at
        self.errors = Array(errors.prefix(Self.maximumErrors))
        self.errorCount = errors.count
    }
}

/// How the watcher is doing: what `/v1/status` shows besides the served flags.
public struct WatcherStatus: Sendable, Equatable {
    /// When the last fetch (or local ref check) finished.
    public var lastFetchAt: Date?
    /// The last fetch's error, cleared by the next successful one.
    public var lastFetchError: String?
    /// The branch tip, when it is a rejected commit.
    public var rejected: Rejection?

    public init(lastFetchAt: Date? = nil, lastFetchError: String? = nil, rejected: Rejection? = nil) {
        self.lastFetchAt = lastFetchAt
        self.lastFetchError = lastFetchError
        self.rejected = rejected
    }
}

/// The flags being served, swapped atomically: readers see one whole commit or the next, never half of one.
///
/// Reads take a lock only long enough to copy a reference-counted value, so evaluation never waits on an apply.
public final class FlagStore: Sendable {
    private let state = Mutex<ServedState?>(nil)
    private let watcherStatus = Mutex(WatcherStatus())

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
