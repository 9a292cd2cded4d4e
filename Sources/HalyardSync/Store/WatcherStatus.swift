#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How the watcher is doing: what `/v1/status` shows besides the served flags.
public struct WatcherStatus: Sendable, Equatable {
    /// When the last fetch (or local ref check) finished.
    public var lastFetchAt: Date?
    /// The last fetch's error, cleared by the next successful one.
    public var lastFetchError: String?
    /// The branch tip, when it is a rejected commit.
    public var rejected: Rejection?

    /// Creates a status; the defaults are a watcher that has not fetched yet.
    public init(lastFetchAt: Date? = nil, lastFetchError: String? = nil, rejected: Rejection? = nil) {
        self.lastFetchAt = lastFetchAt
        self.lastFetchError = lastFetchError
        self.rejected = rejected
    }
}
