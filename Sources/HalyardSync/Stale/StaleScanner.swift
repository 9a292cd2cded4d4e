import HalyardGit
import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Finds stale flags at a commit (DESIGN §14): flags whose behaviour has not changed for a while, flags that serve
/// one value to everybody, and flags past `metadata.expires`.
///
/// It reads the history once for every flag (one first-parent walk with ``FlagHistory``), not once per flag.
///
/// ```swift
/// let report = try StaleScanner(repository: repository).report(at: tip, olderThan: .seconds(90 * 86_400))
/// ```
public struct StaleScanner {
    private let repository: Repository
    private let loader: SnapshotLoader

    /// Creates a scanner over `repository`, whose flags live under `flagsDirectory`.
    public init(repository: Repository, flagsDirectory: String = "flags") {
        self.repository = repository
        self.loader = SnapshotLoader(flagsDirectory: flagsDirectory)
    }

    /// The stale flags at `tip`.
    ///
    /// - Parameters:
    ///   - tip: the commit whose flags are looked at, and where the history walk starts.
    ///   - olderThan: a flag with no effective change in any environment for this long is listed as unchanged.
    ///   - environment: look at this environment only (its history too); nil for all.
    ///   - now: the time the report is for.
    /// - Throws: ``SnapshotError`` when the flags at `tip` do not load, ``StaleError`` when `environment` has no flags
    ///   at `tip`, `GitError` when git fails.
    public func report(at tip: ObjectID, olderThan: Duration, environment: String? = nil, now: Date = Date()) throws -> StaleReport {
        let snapshot = try loader.load(commit: tip, from: repository)
        let environments: [EnvironmentSnapshot]
        if let environment {
            guard let selected = snapshot.environments[environment] else {
                throw StaleError(environment: environment, path: loader.flagsDirectory + "/" + environment + "/", known: snapshot.environmentNames)
            }
            environments = [selected]
        } else {
            environments = snapshot.environmentNames.compactMap { snapshot.environments[$0] }
        }
        var history = FlagHistory(repository: repository, flagsDirectory: loader.flagsDirectory)
        let entries = try history.entries(from: tip, selection: environment.map { HistorySelection.environment($0) } ?? .all)
        // Newest first, so the first entry seen for a flag id is its last effective change in any environment.
        var lastChange: [String: HistoryEntry] = [:]
        for entry in entries where lastChange[entry.flag] == nil { lastChange[entry.flag] = entry }

        let cutoff = now.addingTimeInterval(-olderThan.seconds)
        var findings: [StaleFinding] = []
        var flagCount = 0
        for environment in environments {
            for id in environment.sortedIDs {
                guard let loaded = environment.flags[id] else { continue }
                flagCount += 1
                var reasons: [StaleReason] = []
                if let last = lastChange[id], last.date <= cutoff {
                    reasons.append(.unchanged(since: last.date, commit: last.commit))
                }
                if let uniform = loaded.flag.uniformServing { reasons.append(.oneValue(uniform)) }
                if let expiry = FlagExpiry(of: loaded.flag), expiry.isPast(at: now) || expiry.isMalformed {
                    reasons.append(.expired(expiry))
                }
                if !reasons.isEmpty {
                    findings.append(StaleFinding(environment: environment.name, flag: id, file: loaded.file, reasons: reasons))
                }
            }
        }
        return StaleReport(
            commit: tip.hex, now: now, cutoff: cutoff, environments: environments.map(\.name), flagCount: flagCount, findings: findings)
    }

    /// How many flags of `environment` are past `metadata.expires` (or have a malformed one) or serve one value to
    /// everybody: the `halyard_flags_stale` gauge, which needs no history.
    public static func staleCount(in environment: EnvironmentSnapshot, at now: Date) -> Int {
        environment.flags.values.reduce(0) { count, loaded in
            let expiry = FlagExpiry(of: loaded.flag)
            let expired = expiry.map { $0.isPast(at: now) || $0.isMalformed } ?? false
            return count + (expired || loaded.flag.servesOneValueToEverybody ? 1 : 0)
        }
    }
}

extension FlagExpiry {
    /// Whether `metadata.expires` is not an ISO date.
    public var isMalformed: Bool {
        if case .malformed = self { return true }
        return false
    }
}
