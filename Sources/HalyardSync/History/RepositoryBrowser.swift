import HalyardGit
import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads what the console shows from git: commits, a flag's history, each flag's last change and diffs.
///
/// Like the SSE catch-up reader it has its own thread and its own repository handle, so a person browsing history
/// never delays a fetch or an apply. It is one serial actor: at most one git read of the console runs at a time.
/// It only reads objects of the repository the watcher follows (the mirror, or the local repository).
public actor RepositoryBrowser {
    /// A commit as the console shows it.
    public struct CommitSummary: Sendable, Equatable {
        /// The full hex id.
        public let commit: String
        /// The author's name.
        public let author: String
        /// The author's e-mail address.
        public let email: String
        /// The author date.
        public let date: Date
        /// The first line of the message.
        public let subject: String
    }

    /// One line of a flag's history, with the first parent of its commit (nil for a root commit) to diff against.
    public struct HistoryItem: Sendable, Equatable {
        /// The history entry.
        public let entry: HistoryEntry
        /// The first parent's full hex id.
        public let parent: String?
    }

    private let executor = GitExecutor(label: "halyard.git.console")
    private let source: WatcherConfiguration.Source
    private let dataDirectory: String
    private let flagsDirectory: String
    private let loader: SnapshotLoader
    private var repository: Repository?
    /// Each flag's last change per `tip/environment`, for the few most recent keys.
    private var lastChangeCache: [(key: String, entries: [String: HistoryEntry])] = []

    /// The most history entries walked to find each flag's last change.
    static let lastChangeWalkLimit = 2_000

    /// The browser's own thread, so git reads never block the cooperative pool.
    nonisolated public var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Creates a browser over the repository that a watcher with this configuration follows.
    public init(configuration: WatcherConfiguration) {
        self.source = configuration.source
        self.dataDirectory = configuration.dataDirectory
        self.loader = SnapshotLoader(flagsDirectory: configuration.flagsDirectory)
        self.flagsDirectory = loader.flagsDirectory
    }

    /// The commit with this full hex id, or nil when the repository does not have it.
    public func commit(_ hex: String) -> CommitSummary? {
        guard let repository = open(), let id = ObjectID(hex: hex), let commit = try? repository.commit(id) else { return nil }
        return CommitSummary(
            commit: id.hex,
            author: commit.author.name,
            email: commit.author.email,
            date: commit.author.time,
            subject: commit.subject
        )
    }

    /// The history of one flag from `tip`, newest first, metadata-only changes included.
    ///
    /// - Throws: ``BrowseError`` when the repository cannot be read or the flag never existed.
    public func history(environment: String, flag: String, from tip: String, limit: Int) throws(BrowseError) -> [HistoryItem] {
        let repository = try openOrThrow()
        guard let tipID = ObjectID(hex: tip) else { throw .unknownRevision(tip) }
        var history = FlagHistory(repository: repository, flagsDirectory: flagsDirectory)
        do {
            let entries = try history.entries(from: tipID, selection: .flag(environment: environment, id: flag), includeMetadata: true, limit: limit)
            return entries.map { entry in
                let parent = ObjectID(hex: entry.commit).flatMap { try? repository.commit($0).parents.first }
                return HistoryItem(entry: entry, parent: parent?.hex)
            }
        } catch let error as HistoryError {
            throw .history(error.message)
        } catch {
            throw .unreadable("\(error)")
        }
    }

    /// Each flag's last effective change in one environment, walking back from `tip`; flags whose change is further
    /// back than ``lastChangeWalkLimit`` entries are missing.
    public func lastChanges(environment: String, from tip: String) -> [String: HistoryEntry] {
        let key = tip + "/" + environment
        if let cached = lastChangeCache.first(where: { $0.key == key }) { return cached.entries }
        guard let repository = open(), let tipID = ObjectID(hex: tip) else { return [:] }
        var history = FlagHistory(repository: repository, flagsDirectory: flagsDirectory)
        let entries = (try? history.entries(from: tipID, selection: .environment(environment), limit: Self.lastChangeWalkLimit)) ?? []
        var result: [String: HistoryEntry] = [:]
        for entry in entries where result[entry.flag] == nil {
            result[entry.flag] = entry
        }
        lastChangeCache.append((key, result))
        if lastChangeCache.count > 16 { lastChangeCache.removeFirst() }
        return result
    }

    /// The diff between two revisions, as `halyard diff --format markdown` has it. An empty `from` means "no flags
    /// at all", for the diff of a root commit.
    ///
    /// - Throws: ``BrowseError`` naming the revision that is unknown or whose flags do not load.
    public func diff(from: String, to: String) throws(BrowseError) -> DiffReport {
        let repository = try openOrThrow()
        let toID = try resolve(to, in: repository)
        let new = try load(toID, revision: to, from: repository)
        if from.isEmpty {
            let empty = Snapshot(commit: nil, flagsDirectory: flagsDirectory, environments: [:], files: .none)
            return DiffReport(changes: ChangeSet.between(nil, new), old: empty, new: new, from: "", to: toID.hex)
        }
        let fromID = try resolve(from, in: repository)
        let old = try load(fromID, revision: from, from: repository)
        return DiffReport(changes: ChangeSet.between(old, new), old: old, new: new, from: fromID.hex, to: toID.hex)
    }

    private func resolve(_ revision: String, in repository: Repository) throws(BrowseError) -> ObjectID {
        guard revision.utf8.count <= 256, let id = try? repository.resolveCommit(revision) else { throw .unknownRevision(revision) }
        return id
    }

    private func load(_ id: ObjectID, revision: String, from repository: Repository) throws(BrowseError) -> Snapshot {
        do throws(SnapshotError) {
            return try loader.load(commit: id, from: repository)
        } catch {
            if error.isInvalidFlagSet {
                throw .invalidFlags(revision, errorCount: error.errors.count, first: error.errors.first.map { "\($0)" })
            }
            throw .unreadable(error.description)
        }
    }

    private func openOrThrow() throws(BrowseError) -> Repository {
        guard let repository = open() else { throw .unreadable("the repository cannot be opened yet") }
        return repository
    }

    /// Opens the repository the watcher reads; not remembered on failure, so a mirror not cloned yet opens later.
    private func open() -> Repository? {
        if let repository { return repository }
        let opened: Repository?
        switch source {
        case .local(let path): opened = try? Repository.discover(from: path)
        case .remote: opened = try? Repository.open(at: dataDirectory + "/mirror.git")
        }
        repository = opened
        return opened
    }
}

/// Why the console could not read something from git; it names the revision it concerns.
public struct BrowseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The revision names no commit of the repository.
        case unknownRevision
        /// The flags at the revision do not validate.
        case invalidFlags
        /// The flag or environment has no history.
        case history
        /// The repository cannot be read.
        case unreadable
    }

    /// What went wrong.
    public let kind: Kind
    /// The revision concerned, if any.
    public let revision: String?
    /// A sentence for people.
    public let message: String

    static func unknownRevision(_ revision: String) -> Self {
        Self(kind: .unknownRevision, revision: revision, message: "unknown revision '\(revision)'")
    }

    static func invalidFlags(_ revision: String, errorCount: Int, first: String?) -> Self {
        let detail = first.map { "; first: \($0)" } ?? ""
        return Self(kind: .invalidFlags, revision: revision, message: "the flags at '\(revision)' are invalid (\(errorCount) errors\(detail))")
    }

    static func history(_ message: String) -> Self { Self(kind: .history, revision: nil, message: message) }

    static func unreadable(_ message: String) -> Self { Self(kind: .unreadable, revision: nil, message: message) }

    /// The same as ``message``.
    public var description: String { message }
}
