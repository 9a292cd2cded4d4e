import ArgumentParser
import HalyardGit
import HalyardRules
import HalyardSync

/// `halyard diff`: what changed between two revisions, in flag terms, per environment.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the per-environment semantic change between two revisions.",
        discussion: "Markdown output is made for a pull-request comment: production first, then the rest."
    )

    @Argument(help: "The old revision.")
    var from: String

    @Argument(help: "The new revision.")
    var to: String

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Output format.")
    var format: DiffFormat = .text

    func run() throws {
        try reportingErrors {
            let repo = try repository.openRepository()
            let fromID = try repository.resolve(from, in: repo)
            let toID = try repository.resolve(to, in: repo)
            let old = try load(fromID, label: from, repo)
            let new = try load(toID, label: to, repo)
            let changes = ChangeSet.between(old, new)
            switch format {
            case .json: print(Self.json(changes, from: fromID, to: toID))
            case .text: print(Self.text(changes, from: fromID, to: toID), terminator: "")
            case .markdown: print(Self.markdown(changes, old: old, new: new, from: fromID, to: toID), terminator: "")
            }
        }
    }

    private func load(_ commit: ObjectID, label: String, _ repo: Repository) throws -> Snapshot {
        let result: Result<Snapshot, SnapshotError>
        do {
            result = .success(try repository.loader.load(commit: commit, from: repo))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let snapshot):
            return snapshot
        case .failure(let error) where error.isInvalidFlagSet:
            let first = error.errors.first.map { "; first: \($0)" } ?? ""
            throw CLIError("the flags at \(label) are invalid (\(error.errors.count) errors\(first)); run `halyard validate --rev \(label)`")
        case .failure(let error):
            throw CLIError(error.description, exitCode: 2)
        }
    }

    /// Environment names with production first, then the others in order.
    static func ordered(_ names: some Sequence<String>) -> [String] {
        names.sorted { lhs, rhs in
            if (lhs == "production") != (rhs == "production") { return lhs == "production" }
            return lhs < rhs
        }
    }

    /// `{"from", "to", "environments": {name: {"added", "removed", "changed", "metadataChanged"}}}`.
    static func json(_ changes: ChangeSet, from: ObjectID, to: ObjectID) -> String {
        var json = JSONWriter()
        json.objectStart()
        json.key("from")
        json.string(from.hex)
        json.key("to")
        json.string(to.hex)
        json.key("environments")
        json.objectStart()
        for name in changes.environments.keys.sorted() {
            let change = changes.environments[name]!
            json.key(name)
            json.objectStart()
            json.key("added")
            json.strings(change.added)
            json.key("removed")
            json.strings(change.removed)
            json.key("changed")
            json.strings(change.changed)
            json.key("metadataChanged")
            json.strings(change.metadataChanged)
            json.objectEnd()
        }
        json.objectEnd()
        json.objectEnd()
        return json.text
    }

    static func text(_ changes: ChangeSet, from: ObjectID, to: ObjectID) -> String {
        if changes.environments.isEmpty { return "no flag changes between \(from.shortHex) and \(to.shortHex)\n" }
        var out = ""
        for name in ordered(changes.environments.keys) {
            let change = changes.environments[name]!
            out += name + (change.isEffective ? "" : " (metadata only)") + "\n"
            for id in change.added { out += "  added     \(id)\n" }
            for id in change.removed { out += "  removed   \(id)\n" }
            for id in change.changed { out += "  changed   \(id)\n" }
            for id in change.metadataChanged { out += "  metadata  \(id)\n" }
        }
        return out
    }

    static func markdown(_ changes: ChangeSet, old: Snapshot, new: Snapshot, from: ObjectID, to: ObjectID) -> String {
        var out = "### Halyard: flag changes `\(from.shortHex)` → `\(to.shortHex)`\n\n"
        if changes.environments.isEmpty {
            return out + "No flag changes. Nothing will be published.\n"
        }
        let effective = changes.effectivelyChangedEnvironments
        out +=
            effective.isEmpty
            ? "Metadata only: no subscriber will be called.\n\n"
            : "Subscribers of **\(ordered(effective).joined(separator: ", "))** will be called to refresh.\n\n"
        for name in ordered(changes.environments.keys) {
            let change = changes.environments[name]!
            out += "#### \(name)\(name == "production" && change.isEffective ? " ⚠️" : "")\n\n"
            out += "| flag | change | what a reviewer should know |\n|---|---|---|\n"
            for id in change.added {
                out += "| `\(id)` | added | \(summary(new.environments[name]?.flag(id))) |\n"
            }
            for id in change.removed {
                out += "| `\(id)` | removed | users get `false` from now on (unknown flag) |\n"
            }
            for id in change.changed {
                out += "| `\(id)` | changed | \(details(old.environments[name]?.flag(id), new.environments[name]?.flag(id))) |\n"
            }
            for id in change.metadataChanged {
                out += "| `\(id)` | metadata | name, description or metadata only; no evaluation changes |\n"
            }
            out += "\n"
        }
        return out
    }

    private static func summary(_ flag: HalyardRules.Flag?) -> String {
        guard let flag else { return "" }
        if !flag.active { return "inactive: everybody gets `\(flag.baseState)`" }
        let groups = flag.rules.count
        return "active, \(groups) rule group\(groups == 1 ? "" : "s"), baseState `\(flag.baseState)`"
    }

    private static func details(_ old: HalyardRules.Flag?, _ new: HalyardRules.Flag?) -> String {
        guard let old, let new else { return "" }
        var notes: [String] = []
        if old.active != new.active {
            notes.append(new.active ? "**switched on** (active `false` → `true`)" : "**switched off**: everybody gets `\(new.baseState)`")
        }
        if old.baseState != new.baseState { notes.append("baseState `\(old.baseState)` → `\(new.baseState)`") }
        if old.rules != new.rules {
            let oldPercent = percentages(old)
            let newPercent = percentages(new)
            let rolloutChanged = oldPercent != newPercent && !newPercent.isEmpty
            if rolloutChanged {
                notes.append(
                    "rollout " + oldPercent.map(Self.percent).joined(separator: ", ") + " → " + newPercent.map(Self.percent).joined(separator: ", ")
                )
            }
            if old.rules.count != new.rules.count {
                notes.append("rules: \(old.rules.count) → \(new.rules.count) group\(new.rules.count == 1 ? "" : "s")")
            } else if !rolloutChanged {
                notes.append("targeting rules changed")
            }
        }
        return notes.joined(separator: "; ")
    }

    private static func percentages(_ flag: HalyardRules.Flag) -> [Int] {
        flag.rules.flatMap { $0 }.compactMap { rule in
            if case .percentage(let basisPoints, _) = rule { return basisPoints }
            return nil
        }
    }

    private static func percent(_ basisPoints: Int) -> String {
        basisPoints % 100 == 0 ? "\(basisPoints / 100)%" : "\(Double(basisPoints) / 100)%"
    }
}
