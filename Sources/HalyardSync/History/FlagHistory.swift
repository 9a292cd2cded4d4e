import HalyardGit
import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Answers "who changed this flag, when, and how?" from `git log`, in flag terms.
///
/// It walks first parents from a commit, compares each commit with its first parent, and keeps the commits that
/// changed a selected flag semantically: a reformat is no change, and metadata-only edits are kept only on request.
public struct FlagHistory {
    private let repository: Repository
    private let flagsDirectory: String
    private var decoded: [ObjectID: Flag?] = [:]

    /// Creates a history reader over `repository`, whose flags live under `flagsDirectory`.
    public init(repository: Repository, flagsDirectory: String = "flags") {
        self.repository = repository
        self.flagsDirectory = SnapshotLoader(flagsDirectory: flagsDirectory).flagsDirectory
    }

    /// The audit trail, newest first.
    ///
    /// - Parameters:
    ///   - tip: the commit to start from.
    ///   - selection: which flags to follow.
    ///   - includeMetadata: also list metadata-only changes.
    ///   - limit: the most entries to return.
    /// - Throws: ``HistoryError`` when the selected flag or environment never existed, `GitError` when git fails.
    public mutating func entries(
        from tip: ObjectID,
        selection: HistorySelection,
        includeMetadata: Bool = false,
        limit: Int? = nil
    ) throws -> [HistoryEntry] {
        if case .all = selection, limit == nil {
            return try self.everyEntry(from: tip, includeMetadata: includeMetadata)
        }
        var result: [HistoryEntry] = []
        var walk = Walk()
        var commits = try repository.firstParentHistory(from: tip).makeIterator()
        while let commit = try commits.nextCommit(), !Self.isFull(result, limit: limit) {
            let changes = try self.changes(in: commit, selection: selection, walk: &walk)
            result += self.entries(for: changes, in: commit, includeMetadata: includeMetadata, limit: limit.map { $0 - result.count })
        }
        if !walk.sawPath, let error = self.neverExisted(selection) { throw error }
        return result
    }

    /// The whole audit trail of every flag, newest first, read one environment at a time.
    ///
    /// The commits are walked once for the environment directories' ids (small trees), then each environment's
    /// changed directories are compared in history order. Reading one environment's directory trees one after the
    /// other lets libgit2 rebuild each from the previous one's delta base, still in its cache; interleaving the
    /// environments, as a commit-by-commit diff does, evicts those bases and rebuilds every tree from far back.
    private mutating func everyEntry(from tip: ObjectID, includeMetadata: Bool) throws -> [HistoryEntry] {
        let commits = try repository.firstParentHistory(from: tip).commits()
        // Each commit's environment directories, and its parent's when the parent is not the next commit walked.
        var directories: [[String: ObjectID]] = []
        directories.reserveCapacity(commits.count)
        for commit in commits {
            directories.append(try self.environmentDirectories(in: commit.id))
        }
        var parentDirectories: [[String: ObjectID]] = []
        parentDirectories.reserveCapacity(commits.count)
        for (index, commit) in commits.enumerated() {
            if let parent = commit.parents.first {
                let next = index + 1 < commits.count && commits[index + 1].id == parent ? directories[index + 1] : nil
                parentDirectories.append(try next ?? self.environmentDirectories(in: parent))
            } else {
                parentDirectories.append([:])
            }
        }
        var names = Set<String>()
        for directory in directories { names.formUnion(directory.keys) }
        // Git's tree order (a directory's name compared as if it ended in "/"), the order of a diff under the flags
        // directory.
        let ordered = names.sorted { Array(($0 + "/").utf8).lexicographicallyPrecedes(Array(($1 + "/").utf8)) }
        var changes = [[FileChange]](repeating: [], count: commits.count)
        for environment in ordered {
            let path = flagsDirectory + "/" + environment
            for index in commits.indices {
                let new = directories[index][environment]
                let old = parentDirectories[index][environment]
                if new == old { continue }
                for change in try repository.diff(fromTree: old, toTree: new, at: path) {
                    if let file = self.fileChange(change) { changes[index].append(file) }
                }
            }
        }
        var result: [HistoryEntry] = []
        for (index, commit) in commits.enumerated() where !changes[index].isEmpty {
            result += self.entries(for: changes[index], in: commit, includeMetadata: includeMetadata, limit: nil)
        }
        return result
    }

    /// The directories directly inside the flags directory in `commit`, by name.
    private func environmentDirectories(in commit: ObjectID) throws -> [String: ObjectID] {
        var result: [String: ObjectID] = [:]
        for (name, id) in try repository.subdirectories(atPath: flagsDirectory, inCommit: commit) { result[name] = id }
        return result
    }

    /// What the walk remembers from one commit to the next.
    private struct Walk {
        /// Whether a selected path existed in any commit walked so far.
        var sawPath = false
        /// The flag's directory and file ids in the last parent looked at, so the next commit (that parent) is not
        /// looked up twice.
        var carried: (commit: ObjectID, lookup: FlagLookup)?
    }

    /// A flag file's tree entries in one commit: its environment directory's id and the file's blob id.
    private struct FlagLookup {
        var directory: ObjectID?
        var file: ObjectID?
    }

    /// One flag file that differs between a commit and its first parent.
    private struct FileChange {
        var environment: String
        var id: String
        var old: ObjectID?
        var new: ObjectID?
    }

    private static func isFull(_ entries: [HistoryEntry], limit: Int?) -> Bool {
        guard let limit else { return false }
        return entries.count >= limit
    }

    /// The selected flag files that differ between `commit` and its first parent.
    private func changes(in commit: Commit, selection: HistorySelection, walk: inout Walk) throws -> [FileChange] {
        let parent = commit.parents.first
        switch selection {
        case .flag(let environment, let id):
            return try self.flagChange(environment: environment, id: id, commit: commit.id, parent: parent, walk: &walk)
        case .environment(let environment):
            let directory = flagsDirectory + "/" + environment
            let changes = try diffed(parent: parent, commit: commit.id, under: directory)
            if !walk.sawPath, try repository.entryID(atPath: directory, inCommit: commit.id) != nil {
                walk.sawPath = true
            }
            return changes
        case .all:
            walk.sawPath = true
            return try diffed(parent: parent, commit: commit.id, under: flagsDirectory)
        }
    }

    /// One flag's file in `commit` and in `parent`, compared by blob id; the parent's lookup is carried to the next
    /// commit, and a parent with the same directory tree reuses the commit's file id.
    private func flagChange(environment: String, id: String, commit: ObjectID, parent: ObjectID?, walk: inout Walk) throws -> [FileChange] {
        let directory = flagsDirectory + "/" + environment
        let file = id + ".json"
        let current: FlagLookup
        if let carried = walk.carried, carried.commit == commit {
            current = carried.lookup
        } else {
            current = try self.lookUp(file, under: directory, in: commit, sameDirectoryAs: nil)
        }
        var previous = FlagLookup()
        if let parent {
            previous = try self.lookUp(file, under: directory, in: parent, sameDirectoryAs: current)
            walk.carried = (parent, previous)
        }
        if current.file != nil || previous.file != nil { walk.sawPath = true }
        return current.file == previous.file ? [] : [FileChange(environment: environment, id: id, old: previous.file, new: current.file)]
    }

    /// The ids of `directory` and of `file` in it, in `commit`; when the directory is the same tree as in `known`,
    /// the file's id is taken from there.
    private func lookUp(_ file: String, under directory: String, in commit: ObjectID, sameDirectoryAs known: FlagLookup?) throws -> FlagLookup {
        let directoryID = try repository.entryID(atPath: directory, inCommit: commit)
        if let known, directoryID == known.directory {
            return FlagLookup(directory: directoryID, file: known.file)
        }
        let fileID = try directoryID.flatMap { (tree) throws(GitError) in try repository.entryID(named: file, inTree: tree) }
        return FlagLookup(directory: directoryID, file: fileID)
    }

    /// The history entries of one commit's changed files: semantic changes only, metadata-only ones on request, at most
    /// `limit`.
    private mutating func entries(for changes: [FileChange], in commit: Commit, includeMetadata: Bool, limit: Int?) -> [HistoryEntry] {
        var entries: [HistoryEntry] = []
        for change in changes {
            guard let kind = classify(old: change.old, new: change.new, environment: change.environment, id: change.id) else { continue }
            if kind == .metadata && !includeMetadata { continue }
            entries.append(
                HistoryEntry(
                    commit: commit.id.hex,
                    author: commit.author.name,
                    email: commit.author.email,
                    date: commit.author.time,
                    subject: commit.subject,
                    environment: change.environment,
                    flag: change.id,
                    change: kind
                )
            )
            if Self.isFull(entries, limit: limit) { break }
        }
        return entries
    }

    /// The error for a selection whose flag or environment no commit walked had; nil for `.all`, which always has an
    /// answer.
    private func neverExisted(_ selection: HistorySelection) -> HistoryError? {
        switch selection {
        case .flag(let environment, let id):
            return .flagNeverExisted(environment: environment, flag: id, flagsDirectory: flagsDirectory)
        case .environment(let environment):
            return .environmentNeverExisted(environment: environment, flagsDirectory: flagsDirectory)
        case .all:
            return nil
        }
    }

    /// The flag files under `prefix` that differ between `commit` and `parent`.
    private func diffed(parent: ObjectID?, commit: ObjectID, under prefix: String) throws -> [FileChange] {
        try repository.diff(from: parent, to: commit, under: prefix).compactMap { self.fileChange($0) }
    }

    /// The flag file a tree change is about; nil for any other file.
    private func fileChange(_ change: TreeChange) -> FileChange? {
        let relative = String(change.path.dropFirst(flagsDirectory.count + 1))
        guard case .flag(let environment, let id) = FlagPath.classify(relative) else { return nil }
        return FileChange(environment: environment, id: id, old: change.oldID, new: change.newID)
    }

    /// Compares two versions of a flag file semantically. Nil when they mean the same.
    private mutating func classify(old: ObjectID?, new: ObjectID?, environment: String, id: String) -> HistoryEntry.Change? {
        switch (old, new) {
        case (nil, nil): return nil
        case (nil, _): return .added
        case (_, nil): return .removed
        case (let old?, let new?):
            if old == new { return nil }
            let file = flagsDirectory + "/" + environment + "/" + id + ".json"
            guard let before = flag(old, id: id, file: file), let after = flag(new, id: id, file: file) else {
                return .changed
            }
            if !before.hasSameTargeting(as: after) { return .changed }
            if !before.hasSameDescriptiveFields(as: after) { return .metadata }
            return nil
        }
    }

    private mutating func flag(_ blob: ObjectID, id: String, file: String) -> Flag? {
        if let cached = decoded[blob] { return cached }
        let flag = (try? repository.blob(blob)).flatMap { FlagDecoder.decode($0, id: id, file: file).flag }
        decoded[blob] = flag
        return flag
    }
}
