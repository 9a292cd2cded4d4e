import HalyardRules

/// The per-environment change between two snapshots, with what a reviewer should know about each flag: the content
/// of `halyard diff --format markdown`, as a value.
///
/// The CLI renders it as Markdown (``markdown``) and the console as HTML, so a pull-request comment and the console's
/// diff page say the same thing. The notes come from ``ChangeDescription`` and keep its inline Markdown (backticks,
/// `**bold**`); no HTML is made here.
public struct DiffReport: Sendable {
    /// One flag of one environment's change.
    public struct Row: Sendable {
        /// The flag id.
        public let id: String
        /// How it changed.
        public let kind: EnvironmentChangeSet.Kind
        /// What a reviewer should know, one note per change.
        public let notes: [String]
    }

    /// One environment with any change.
    public struct Section: Sendable {
        /// The environment's name.
        public let environment: String
        /// Whether the change is effective (not metadata only): its subscribers will be called.
        public let isEffective: Bool
        /// The listed flags: added, removed, changed, then metadata-only, each sorted.
        public let rows: [Row]
    }

    /// The old commit's full hex id.
    public let from: String
    /// The new commit's full hex id.
    public let to: String
    /// The environments with any change, production first, then the others in order.
    public let sections: [Section]
    /// The environments whose subscribers will be called, production first.
    public let effectiveEnvironments: [String]

    /// Builds the report of `changes`, the change set from `old` to `new`.
    public init(changes: ChangeSet, old: Snapshot, new: Snapshot, from: String, to: String) {
        self.from = from
        self.to = to
        self.effectiveEnvironments = Self.ordered(changes.effectivelyChangedEnvironments)
        self.sections = Self.ordered(changes.environments.keys).map { name in
            let change = changes.environments[name]!
            return Section(
                environment: name,
                isEffective: change.isEffective,
                rows: change.listed.map { id, kind in
                    Row(id: id, kind: kind, notes: Self.notes(id, kind, environment: name, old: old, new: new))
                }
            )
        }
    }

    /// Environment names with production first, then the others in order.
    public static func ordered(_ names: some Sequence<String>) -> [String] {
        names.sorted { lhs, rhs in
            if (lhs == "production") != (rhs == "production") { return lhs == "production" }
            return lhs < rhs
        }
    }

    /// What a reviewer should know about one flag of one environment's change set, from ``ChangeDescription``.
    public static func notes(_ id: String, _ kind: EnvironmentChangeSet.Kind, environment: String, old: Snapshot, new: Snapshot) -> [String] {
        let before = old.environments[environment]?.flag(id)
        let after = new.environments[environment]?.flag(id)
        switch kind {
        case .added: return after.map { [ChangeDescription.added($0)] } ?? []
        case .removed: return [ChangeDescription.removed(before)]
        case .changed:
            guard let before, let after else { return [] }
            return ChangeDescription.changed(from: before, to: after)
        case .metadata: return [ChangeDescription.metadataOnly]
        }
    }

    /// The short form of a full hex id.
    static func short(_ hex: String) -> String { String(hex.prefix(7)) }

    /// The report as a Markdown pull-request comment (`halyard diff --format markdown`).
    public var markdown: String {
        var out = "### Halyard: flag changes `\(Self.short(from))` → `\(Self.short(to))`\n\n"
        if sections.isEmpty {
            return out + "No flag changes. Nothing will be published.\n"
        }
        out +=
            effectiveEnvironments.isEmpty
            ? "Metadata only: no subscriber will be called.\n\n"
            : "Subscribers of **\(effectiveEnvironments.joined(separator: ", "))** will be called to refresh.\n\n"
        for section in sections {
            let name = section.environment
            out += "#### \(name)\(name == "production" && section.isEffective ? " ⚠️" : "")\n\n"
            out += "| flag | change | what a reviewer should know |\n|---|---|---|\n"
            for row in section.rows {
                let cell = row.notes.joined(separator: "; ").replacing("|", with: "\\|")
                out += "| `\(row.id)` | \(row.kind.rawValue) | \(cell) |\n"
            }
            out += "\n"
        }
        return out
    }
}

extension EnvironmentChangeSet {
    /// How one flag is listed in a change set.
    public enum Kind: String, Sendable {
        /// The flag is new.
        case added
        /// The flag went away.
        case removed
        /// Its evaluation changed.
        case changed
        /// Only its name, description or metadata changed.
        case metadata
    }

    /// Every listed flag with its kind: the added, then the removed, changed and metadata-only ones, each sorted.
    public var listed: [(id: String, kind: Kind)] {
        added.map { ($0, .added) } + removed.map { ($0, .removed) } + changed.map { ($0, .changed) } + metadataChanged.map { ($0, .metadata) }
    }
}
