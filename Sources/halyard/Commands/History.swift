import ArgumentParser
import Foundation
import HalyardGit
import HalyardRules
import HalyardSync

/// `halyard history`: the audit trail of a flag, an environment or every flag, straight from `git log`.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the commits that effectively changed a flag, newest first.",
        discussion: """
            Walks first parents from the tip and compares each commit with its first parent. A reformat is no change. \
            With signature keys configured (--allowed-signers, --gpg-keyring, or repo.verify.* from --config or \
            HALYARD_REPO_VERIFY_*), each entry also says who signed its commit.
            """
    )

    @Argument(help: ArgumentHelp("One flag to follow.", valueName: "env/flag"))
    var flag: String?

    @Option(help: "Follow every flag of this environment.")
    var env: String?

    @ArgumentParser.Flag(help: "Also list metadata-only changes (name, description, metadata).")
    var all = false

    @Option(help: "List at most this many entries.")
    var limit: Int?

    @Option(help: "Start from this revision.")
    var rev: String = "HEAD"

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @OptionGroup var signing: SignatureOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if flag != nil && env != nil { throw ValidationError("give either ENV/FLAG or --env, not both") }
        if let flag, flag.split(separator: "/").count != 2 {
            throw ValidationError("the flag is ENV/FLAG, e.g. production/new-checkout")
        }
    }

    func run() throws {
        try reportingErrors {
            let selection: HistorySelection
            if let flag {
                let parts = flag.split(separator: "/").map(String.init)
                selection = .flag(environment: parts[0], id: parts[1].hasSuffix(".json") ? String(parts[1].dropLast(5)) : parts[1])
            } else if let env {
                selection = .environment(env)
            } else {
                selection = .all
            }
            let repo = try repository.openRepository()
            let tip = try repository.resolve(rev, in: repo)
            var history = FlagHistory(repository: repo, flagsDirectory: repository.flagsDirectory)
            let entries: [HistoryEntry]
            do {
                entries = try history.entries(from: tip, selection: selection, includeMetadata: all, limit: limit)
            } catch let error as HistoryError {
                throw CLIError(error.message)
            }
            let policy = try signing.policy()
            var signatures: [String: SignatureCheck] = [:]
            if policy.isEnabled {
                for entry in entries where signatures[entry.commit] == nil {
                    guard let id = ObjectID(hex: entry.commit) else { continue }
                    signatures[entry.commit] = try policy.check(commit: id, in: repo)
                }
            }
            switch format {
            case .json:
                print(Self.json(entries, signatures: signatures))
            case .text:
                if entries.isEmpty { print("no effective changes") }
                var versions = FlagVersions(repository: repo, flagsDirectory: repository.flagsDirectory)
                for entry in entries {
                    let date = Self.iso8601(entry.date)
                    print(
                        "\(entry.commit.prefix(7))  \(date)  \(entry.change.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(entry.environment)/\(entry.flag)  \(entry.author) <\(entry.email)>  "
                            + (signatures[entry.commit].map { "[\($0.summary)]  " } ?? "") + entry.subject
                    )
                    for note in versions.notes(for: entry) { print("         - \(ChangeDescription.plain(note))") }
                }
            }
        }
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// `[{"commit", "author", "email", "date", "subject", "environment", "flag", "change", "signer"?}, …]`, with
    /// `signer` when signatures were checked.
    static func json(_ entries: [HistoryEntry], signatures: [String: SignatureCheck] = [:]) -> String {
        var json = JSONWriter(capacity: 64 + entries.count * 256)
        json.arrayStart()
        for entry in entries {
            json.objectStart()
            json.key("commit")
            json.string(entry.commit)
            json.key("author")
            json.string(entry.author)
            json.key("email")
            json.string(entry.email)
            json.key("date")
            json.string(iso8601(entry.date))
            json.key("subject")
            json.string(entry.subject)
            json.key("environment")
            json.string(entry.environment)
            json.key("flag")
            json.string(entry.flag)
            json.key("change")
            json.string(entry.change.rawValue)
            if let signature = signatures[entry.commit] {
                json.key("signer")
                signature.write(to: &json)
            }
            json.objectEnd()
        }
        json.arrayEnd()
        return json.text
    }
}

/// Reads the two versions of a flag that a history entry compares, to describe the change in words.
///
/// The history walk says which commits changed a flag; the words (``ChangeDescription``) need the flag at the commit
/// and at its first parent. Decoded flags are kept per commit and path, since consecutive entries share commits.
struct FlagVersions {
    let repository: Repository
    let flagsDirectory: String
    private var decoded: [String: HalyardRules.Flag?] = [:]

    init(repository: Repository, flagsDirectory: String) {
        self.repository = repository
        self.flagsDirectory = SnapshotLoader(flagsDirectory: flagsDirectory).flagsDirectory
    }

    /// What a reviewer should know about the entry's change; empty for metadata-only changes and unreadable flags.
    mutating func notes(for entry: HistoryEntry) -> [String] {
        guard let commitID = ObjectID(hex: entry.commit) else { return [] }
        let path = flagsDirectory + "/" + entry.environment + "/" + entry.flag + ".json"
        switch entry.change {
        case .added:
            return flag(at: commitID, path: path, id: entry.flag).map { [ChangeDescription.added($0)] } ?? []
        case .removed:
            return [ChangeDescription.removed(parent(of: commitID).flatMap { flag(at: $0, path: path, id: entry.flag) })]
        case .changed:
            guard let parent = parent(of: commitID), let before = flag(at: parent, path: path, id: entry.flag),
                let after = flag(at: commitID, path: path, id: entry.flag)
            else { return [] }
            return ChangeDescription.changed(from: before, to: after)
        case .metadata:
            return []
        }
    }

    private func parent(of commit: ObjectID) -> ObjectID? {
        (try? repository.commit(commit))?.parents.first
    }

    private mutating func flag(at commit: ObjectID, path: String, id: String) -> HalyardRules.Flag? {
        let key = commit.hex + ":" + path
        if let cached = decoded[key] { return cached }
        let bytes = (try? repository.entryID(atPath: path, inCommit: commit)).flatMap { $0 }.flatMap { try? repository.blob($0) }
        let flag = bytes.flatMap { FlagDecoder.decode($0, id: id, file: path).flag }
        decoded[key] = flag
        return flag
    }
}
