#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One effective change to one flag in one commit: a line of the audit trail.
public struct HistoryEntry: Sendable, Equatable {
    /// What happened to the flag.
    public enum Change: String, Sendable, Codable {
        case added, removed, changed, metadata
    }

    public var commit: String
    public var author: String
    public var email: String
    public var date: Date
    public var subject: String
    public var environment: String
    public var flag: String
    public var change: Change
}
