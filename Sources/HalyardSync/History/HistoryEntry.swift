#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One effective change to one flag in one commit: a line of the audit trail.
public struct HistoryEntry: Sendable, Equatable {
    /// What happened to the flag.
    public enum Change: String, Sendable, Codable {
        /// The flag's file appeared.
        case added
        /// The flag's file went away.
        case removed
        /// Its targeting changed (`active`, `baseState` or the normalised `rules`), or one version does not decode.
        case changed
        /// Only `name`, `description` or `metadata` changed.
        case metadata
    }

    /// The commit's full hex id.
    public var commit: String
    /// The commit author's name.
    public var author: String
    /// The commit author's e-mail address.
    public var email: String
    /// The commit's author date.
    public var date: Date
    /// The first line of the commit message.
    public var subject: String
    /// The environment of the changed flag.
    public var environment: String
    /// The changed flag's id.
    public var flag: String
    /// What happened to the flag.
    public var change: Change
}
