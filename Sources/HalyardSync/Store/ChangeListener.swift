#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One applied commit that changed at least one environment effectively.
public struct AppliedChange: Sendable {
    /// The commit now served.
    public let commit: String
    /// The commit served before it.
    public let previousCommit: String?
    /// The change sets of every environment with any change; publish only `effectivelyChangedEnvironments`.
    public let changes: ChangeSet
    /// When it was applied.
    public let appliedAt: Date
    /// For each environment with overrides in effect after this change, their mark (``StreamEventID/marks(of:)``).
    public let overrideMarks: [String: String]

    /// Creates the record of one applied commit.
    public init(commit: String, previousCommit: String?, changes: ChangeSet, appliedAt: Date, overrideMarks: [String: String] = [:]) {
        self.commit = commit
        self.previousCommit = previousCommit
        self.changes = changes
        self.appliedAt = appliedAt
        self.overrideMarks = overrideMarks
    }

    /// The id of the server-sent event that announces this change in `environment`.
    public func eventID(environment: String) -> StreamEventID {
        StreamEventID(commit: commit, mark: overrideMarks[environment])
    }
}

/// The publishing seam: whoever must hear about applied changes (the SSE hub, the webhook deliverer) listens here.
///
/// Listeners are called after the store was swapped and the outbox written, on the watcher's task; they must return
/// quickly and never block.
public protocol ChangeListener: Sendable {
    /// Called once for each applied commit with an effective change, after it is served.
    func flagsApplied(_ change: AppliedChange)
}
