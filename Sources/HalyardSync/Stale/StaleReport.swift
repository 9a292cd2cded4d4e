import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why a flag is listed by `halyard stale`.
public enum StaleReason: Sendable, Equatable {
    /// Its behaviour has not changed in any environment looked at since `date`, in `commit` (full hex id), which is
    /// longer ago than the threshold.
    case unchanged(since: Date, commit: String)
    /// It serves one value to everybody.
    case oneValue(UniformServing)
    /// It is past `metadata.expires`, or that date is malformed.
    case expired(FlagExpiry)

    /// A short name for the kind: `unchanged`, `one-value`, `expired` or `malformed-expiry`.
    public var kind: String {
        switch self {
        case .unchanged: "unchanged"
        case .oneValue: "one-value"
        case .expired(.malformed): "malformed-expiry"
        case .expired: "expired"
        }
    }
}

/// One flag of one environment that `halyard stale` lists, with every reason that applies.
public struct StaleFinding: Sendable, Equatable {
    /// The environment.
    public var environment: String
    /// The flag id.
    public var flag: String
    /// The flag file, relative to the repository root.
    public var file: String
    /// Why it is listed, in the order unchanged, one value, expired.
    public var reasons: [StaleReason]
}

/// The stale flags of a commit: what `halyard stale` prints.
public struct StaleReport: Sendable {
    /// The commit looked at (full hex id).
    public var commit: String
    /// The time the report is for.
    public var now: Date
    /// Flags with no effective change since this date are unchanged for too long.
    public var cutoff: Date
    /// The environments looked at, sorted.
    public var environments: [String]
    /// How many flag files were looked at.
    public var flagCount: Int
    /// The listed flags, sorted by environment, then flag id.
    public var findings: [StaleFinding]
}

/// `halyard stale --env E` named an environment that has no flags at the commit looked at.
public struct StaleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment asked for.
    public let environment: String
    /// Its directory, relative to the repository root, with a trailing slash (`flags/qa/`).
    public let path: String
    /// The environments that are there, sorted.
    public let known: [String]

    /// A sentence for people, naming ``path`` and the environments that exist.
    public var description: String {
        "no environment '\(environment)' (\(path)) at this commit; environments: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
    }
}
