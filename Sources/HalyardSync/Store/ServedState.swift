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

    /// Creates the state to serve.
    public init(snapshot: Snapshot, appliedAt: Date, lastChange: [String: String]) {
        self.snapshot = snapshot
        self.appliedAt = appliedAt
        self.lastChange = lastChange
    }

    /// The applied commit.
    public var commit: String { snapshot.commit ?? "" }
}
