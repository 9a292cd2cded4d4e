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
        var result: [HistoryEntry] = []
        var sawPath = false
        let walk = try repository.firstParentHistory(from: tip)
        var carried: (commit: ObjectID, directory: ObjectID?, file: ObjectID?)?
        var commits = walk.makeIterator()
        while let commit = try commits.nextCommit() {
            if let limit, result.count >= limit { break }
            let commitID = commit.id
            let parent = commit.parents.first
            let changes: [(environment: String, id: String, old: ObjectID?, new: ObjectID?)]
            switch selection {
            case .flag(let environment, let id):
                let directory = flagsDirectory + "/" + environment
                let file = id + ".json"
                let current: (directory: ObjectID?, file: ObjectID?)
                if let carried, carried.commit == commitID {
                    current = (carried.directory, carried.file)
                } else {
                    let directoryID = try repository.entryID(atPath: directory, inCommit: commitID)
                    current = (directoryID, try directoryID.flatMap { (tree) throws(GitError) in try repository.entryID(named: file, inTree: tree) })
                }
                var previous: (directory: ObjectID?, file: ObjectID?) = (nil, nil)
                if let parent {
                    let directoryID = try repository.entryID(atPath: directory, inCommit: parent)
                    if directoryID == current.directory {
                        previous = (directoryID, current.file)
                    } else {
                        previous = (
                            directoryID, try directoryID.flatMap { (tree) throws(GitError) in try repository.entryID(named: file, inTree: tree) }
                        )
                    }
                    carried = (parent, previous.directory, previous.file)
                }
                if current.file != nil || previous.file != nil { sawPath = true }
                changes = current.file == previous.file ? [] : [(environment, id, previous.file, current.file)]
            case .environment(let environment):
                changes = try diffed(parent: parent, commit: commitID, under: flagsDirectory + "/" + environment)
                if !sawPath, try repository.entryID(atPath: flagsDirectory + "/" + environment, inCommit: commitID) != nil {
                    sawPath = true
                }
            case .all:
                changes = try diffed(parent: parent, commit: commitID, under: flagsDirectory)
                sawPath = true
            }
            for change in changes {
                guard let kind = classify(old: change.old, new: change.new, environment: change.environment, id: change.id) else { continue }
                if kind == .metadata && !includeMetadata { continue }
                result.append(
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
                if let limit, result.count >= limit { break }
            }
        }
        if !sawPath {
            switch selection {
            case .flag(let environment, let id):
                throw HistoryError.flagNeverExisted(environment: environment, flag: id, flagsDirectory: flagsDirectory)
            case .environment(let environment):
                throw HistoryError.environmentNeverExisted(environment: environment, flagsDirectory: flagsDirectory)
            case .all:
                break
            }
        }
        return result
    }

    private func diffed(parent: ObjectID?, commit: ObjectID, under prefix: String) throws -> [(
        environment: String, id: String, old: ObjectID?, new: ObjectID?
    )] {
        try repository.diff(from: parent, to: commit, under: prefix).compactMap { change in
            let relative = String(change.path.dropFirst(flagsDirectory.count + 1))
            guard case .flag(let environment, let id) = FlagPath.classify(relative) else { return nil }
            return (environment, id, change.oldID, change.newID)
        }
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
