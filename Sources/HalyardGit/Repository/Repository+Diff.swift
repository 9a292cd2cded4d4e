internal import CLibgit2

extension Repository {
    /// The changed non-directory entries under the directory `prefix` between commits `from` and `to`.
    ///
    /// `from == nil` compares with the empty tree, so every entry is added. Only the `prefix` subtrees are compared,
    /// so changes elsewhere cost nothing and are never listed. There is no rename detection: a rename is a deletion
    /// plus an addition. Changes are in path order.
    public func diff(from: ObjectID?, to: ObjectID, under prefix: String) throws(GitError) -> [TreeChange] {
        let prefix = normalizedPrefix(prefix)
        let operation = "diff \(from?.shortHex ?? "the empty tree")..\(to.shortHex) under '\(prefix)' in \(displayPath)"
        // Only the ids of the two directories: their tree objects are read raw (and cached) by the comparison, never
        // parsed into libgit2's entry table, which for a directory of 10,000 flags costs more than the whole diff.
        let newTree = try directoryID(atPath: prefix, inCommit: to, operation)
        let oldTree = try from.flatMap { (id) throws(GitError) in try directoryID(atPath: prefix, inCommit: id, operation) }
        if oldTree == nil && newTree == nil {
            return []
        }
        var changes = [TreeChange]()
        try diffRawTrees(
            old: oldTree,
            new: newTree,
            at: prefix,
            into: &changes,
            operation
        )
        return changes
    }

    /// The changed non-directory entries between the trees `old` and `new` (nil: the empty tree), with paths under
    /// `directory`, in path order: ``diff(from:to:under:)`` for callers that already hold the two directories' ids.
    public func diff(fromTree old: ObjectID?, toTree new: ObjectID?, at directory: String) throws(GitError) -> [TreeChange] {
        let directory = normalizedPrefix(directory)
        let operation = "diff tree \(old?.shortHex ?? "(empty)")..\(new?.shortHex ?? "(empty)") at '\(directory)' in \(displayPath)"
        var changes = [TreeChange]()
        try diffRawTrees(old: old, new: new, at: directory, into: &changes, operation)
        return changes
    }

    /// The directories directly inside the directory at `path` in commit `commit`, by name, with their tree ids; empty
    /// when `path` is absent or not a directory. Nothing below them is read.
    public func subdirectories(atPath path: String, inCommit commit: ObjectID) throws(GitError) -> [(name: String, id: ObjectID)] {
        let path = normalizedPrefix(path)
        let operation = "list the directories of '\(path)' in commit \(commit.shortHex) of \(displayPath)"
        guard let directory = try directoryID(atPath: path, inCommit: commit, operation) else { return [] }
        let listed: [(name: String, id: ObjectID)]? = try withRawTree(directory, operation) { bytes in
            var result: [(name: String, id: ObjectID)] = []
            var offset = 0
            while let entry = RawTreeEntry(in: bytes, at: offset) {
                if entry.isTree { result.append((entry.name(in: bytes), entry.id(in: bytes))) }
                offset = entry.end
            }
            return result
        }
        return listed ?? []
    }
}
