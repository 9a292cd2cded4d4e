//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// One environment's effective change between two applied commits.
///
/// The watcher hands these to ``AppliedStateStore/recordApplied(_:changes:fetchedAt:)``; they become the
/// `data` of a `flags.changed` webhook. Keeping per-flag fingerprints lets a pending message be merged with a newer
/// one into the exact change between the oldest and the newest commit.
///
/// ```swift
/// let change = EnvironmentChange(
///     environment: "production", commit: "b2…", previousCommit: "a1…",
///     transitions: ["new-checkout": FlagTransition(before: "f1", after: "f2")]
/// )
/// change.changed  // ["new-checkout"]
/// ```
public struct EnvironmentChange: Sendable, Hashable, Codable {
    /// The environment (the directory name under `flags/`).
    public var environment: String
    /// The commit that was applied.
    public var commit: String
    /// The commit that was served before ``commit`` was applied, if any.
    public var previousCommit: String?
    /// The fingerprints of each touched flag, by flag id.
    public var transitions: [String: FlagTransition]

    /// Creates a change of one environment.
    public init(environment: String, commit: String, previousCommit: String?, transitions: [String: FlagTransition]) {
        self.environment = environment
        self.commit = commit
        self.previousCommit = previousCommit
        self.transitions = transitions
    }

    /// The ids of flags that did not exist before and exist after, sorted.
    public var added: [String] {
        self.transitions.compactMap { $0.value.before == nil && $0.value.after != nil ? $0.key : nil }.sorted()
    }

    /// The ids of flags that existed before and no longer exist, sorted.
    public var removed: [String] {
        self.transitions.compactMap { $0.value.before != nil && $0.value.after == nil ? $0.key : nil }.sorted()
    }

    /// The ids of flags that exist on both sides with a different fingerprint, sorted.
    public var changed: [String] {
        self.transitions.compactMap { entry in
            guard let before = entry.value.before, let after = entry.value.after, before != after else { return nil }
            return entry.key
        }.sorted()
    }

    /// Whether no flag is added, removed or changed: such a change is never published.
    public var isEmpty: Bool {
        !self.transitions.values.contains { $0.isEffective }
    }

    /// Merges two consecutive changes of the same environment into one.
    ///
    /// The result goes from `older.previousCommit` to `newer.commit`. For each flag, `before` comes from the older
    /// change when it has the flag (else from the newer one) and `after` from the newer change when it has the flag
    /// (else from the older one). Flags whose fingerprints end up equal are left out.
    ///
    /// - Returns: The net change, or `nil` when it is empty (for example a flag added and then removed).
    public static func coalesce(_ older: EnvironmentChange, _ newer: EnvironmentChange) -> EnvironmentChange? {
        var merged: [String: FlagTransition] = [:]
        for flag in Set(older.transitions.keys).union(newer.transitions.keys) {
            let olderTransition = older.transitions[flag]
            let newerTransition = newer.transitions[flag]
            let before = olderTransition.map(\.before) ?? newerTransition?.before
            let after = newerTransition.map(\.after) ?? olderTransition?.after
            let transition = FlagTransition(before: before, after: after)
            if transition.isEffective {
                merged[flag] = transition
            }
        }
        guard !merged.isEmpty else { return nil }
        return EnvironmentChange(
            environment: newer.environment,
            commit: newer.commit,
            previousCommit: older.previousCommit,
            transitions: merged
        )
    }
}
