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
            case .json: print(Self.json(changes, old: old, new: new, from: fromID, to: toID))
            case .text: print(Self.text(changes, old: old, new: new, from: fromID, to: toID), terminator: "")
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
    static func ordered(_ names: some Sequence<String>) -> [String] { DiffReport.ordered(names) }

    /// What a reviewer should know about one flag of one environment's change set, from ``ChangeDescription``.
    static func notes(_ id: String, _ kind: EnvironmentChangeSet.Kind, environment: String, old: Snapshot, new: Snapshot) -> [String] {
        DiffReport.notes(id, kind, environment: environment, old: old, new: new)
    }

    /// `{"from", "to", "environments": {name: {"added", "removed", "changed", "metadataChanged", "notes"}}}`, where
    /// `notes` maps each listed flag id to what a reviewer should know, in the words of the other formats.
    static func json(_ changes: ChangeSet, old: Snapshot, new: Snapshot, from: ObjectID, to: ObjectID) -> String {
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
            json.key("notes")
            json.objectStart()
            for (id, kind) in change.listed.sorted(by: { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }) {
                json.key(id)
                json.strings(notes(id, kind, environment: name, old: old, new: new).map(ChangeDescription.plain))
            }
            json.objectEnd()
            json.objectEnd()
        }
        json.objectEnd()
        json.objectEnd()
        return json.text
    }

    /// One line per flag (`added`, `removed`, `changed`, `metadata`), each followed by what a reviewer should know.
    static func text(_ changes: ChangeSet, old: Snapshot, new: Snapshot, from: ObjectID, to: ObjectID) -> String {
        if changes.environments.isEmpty { return "no flag changes between \(from.shortHex) and \(to.shortHex)\n" }
        var out = ""
        for name in ordered(changes.environments.keys) {
            let change = changes.environments[name]!
            out += name + (change.isEffective ? "" : " (metadata only)") + "\n"
            for (id, kind) in change.listed {
                out += "  \(kind.rawValue.padding(10))\(id)\n"
                if kind == .metadata { continue }
                for note in notes(id, kind, environment: name, old: old, new: new) {
                    out += "            - \(ChangeDescription.plain(note))\n"
                }
            }
        }
        return out
    }

    /// The Markdown pull-request comment, rendered by ``DiffReport`` (the console shows the same report as HTML).
    static func markdown(_ changes: ChangeSet, old: Snapshot, new: Snapshot, from: ObjectID, to: ObjectID) -> String {
        DiffReport(changes: changes, old: old, new: new, from: from.hex, to: to.hex).markdown
    }
}

extension String {
    /// The string padded with spaces to `width` characters.
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
