import HalyardRules

/// What changed in one environment between two snapshots, in flag terms (DESIGN §4).
///
/// A flag is in at most one list: `changed` wins over `metadataChanged`. Ids are sorted.
public struct EnvironmentChangeSet: Sendable, Hashable, Codable {
    /// Flags that exist only in the new snapshot.
    public var added: [String]
    /// Flags that exist only in the old snapshot.
    public var removed: [String]
    /// Flags whose `active`, `baseState` or normalised `rules` differ.
    public var changed: [String]
    /// Flags whose only differences are `name`, `description` or `metadata`.
    public var metadataChanged: [String]
    /// Targeting fingerprints before and after, for every flag in `added`, `removed` and `changed`.
    public var transitions: [String: FlagTransition]

    /// Creates a change set; the defaults are no change.
    public init(
        added: [String] = [],
        removed: [String] = [],
        changed: [String] = [],
        metadataChanged: [String] = [],
        transitions: [String: FlagTransition] = [:]
    ) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.metadataChanged = metadataChanged
        self.transitions = transitions
    }

    /// True when a flag was added, removed or changed: the environment must be published.
    public var isEffective: Bool { !(added.isEmpty && removed.isEmpty && changed.isEmpty) }

    /// True when nothing at all changed, metadata included.
    public var isEmpty: Bool { !isEffective && metadataChanged.isEmpty }

    /// Compares two versions of one environment. Either side may be absent.
    public static func between(_ old: EnvironmentSnapshot?, _ new: EnvironmentSnapshot?) -> EnvironmentChangeSet {
        var result = EnvironmentChangeSet()
        if let old, let new, old.digest == new.digest { return result }
        let oldFlags = old?.flags ?? [:]
        let newFlags = new?.flags ?? [:]
        for (id, newFlag) in newFlags {
            guard let oldFlag = oldFlags[id] else {
                result.added.append(id)
                result.transitions[id] = FlagTransition(before: nil, after: newFlag.targetingFingerprint)
                continue
            }
            if oldFlag.fingerprintDigest == newFlag.fingerprintDigest { continue }
            if !oldFlag.flag.hasSameTargeting(as: newFlag.flag) {
                result.changed.append(id)
                result.transitions[id] = FlagTransition(before: oldFlag.targetingFingerprint, after: newFlag.targetingFingerprint)
            } else if !oldFlag.flag.hasSameDescriptiveFields(as: newFlag.flag) {
                result.metadataChanged.append(id)
            }
        }
        for (id, oldFlag) in oldFlags where newFlags[id] == nil {
            result.removed.append(id)
            result.transitions[id] = FlagTransition(before: oldFlag.targetingFingerprint, after: nil)
        }
        result.added.sort()
        result.removed.sort()
        result.changed.sort()
        result.metadataChanged.sort()
        return result
    }
}

/// Per-environment change sets between two snapshots; only environments with any change are listed.
public struct ChangeSet: Sendable, Hashable {
    /// Change sets by environment name.
    public var environments: [String: EnvironmentChangeSet]

    /// Creates a change set from per-environment ones.
    public init(environments: [String: EnvironmentChangeSet] = [:]) {
        self.environments = environments
    }

    /// Compares two snapshots; `old == nil` makes every flag `added`.
    public static func between(_ old: Snapshot?, _ new: Snapshot) -> ChangeSet {
        var environments: [String: EnvironmentChangeSet] = [:]
        var names = Set(new.environments.keys)
        if let old { names.formUnion(old.environments.keys) }
        for name in names {
            let change = EnvironmentChangeSet.between(old?.environments[name], new.environments[name])
            if !change.isEmpty { environments[name] = change }
        }
        return ChangeSet(environments: environments)
    }

    /// Every flag of every environment of `snapshot` as `changed`, for when the previous flags are unknown (the applied
    /// commit is gone from git after a restart, DESIGN §13): subscribers over-refresh once rather than miss a change.
    public static func everyFlagChanged(in snapshot: Snapshot) -> ChangeSet {
        var environments: [String: EnvironmentChangeSet] = [:]
        for (name, environment) in snapshot.environments {
            var transitions: [String: FlagTransition] = [:]
            for (id, flag) in environment.flags {
                transitions[id] = FlagTransition(before: unknownFingerprint, after: flag.targetingFingerprint)
            }
            environments[name] = EnvironmentChangeSet(changed: environment.sortedIDs, transitions: transitions)
        }
        return ChangeSet(environments: environments)
    }

    /// The "before" fingerprint of a flag whose previous version is unknown; never equal to a real fingerprint.
    static let unknownFingerprint = "unknown"

    /// Environments where a flag was added, removed or changed, sorted.
    public var effectivelyChangedEnvironments: [String] {
        environments.filter { $0.value.isEffective }.keys.sorted()
    }

    /// True when no environment changed effectively.
    public var isEffective: Bool { environments.values.contains { $0.isEffective } }

    /// The effective changes as outbox entries for the webhook deliverer.
    public func environmentChanges(commit: String, previousCommit: String?) -> [EnvironmentChange] {
        effectivelyChangedEnvironments.map { name in
            EnvironmentChange(
                environment: name,
                commit: commit,
                previousCommit: previousCommit,
                transitions: environments[name]!.transitions
            )
        }
    }
}
