internal import CLibgit2

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Repository {
    /// Every non-directory entry (file, executable, symlink, submodule) at any depth under the directory `prefix`
    /// (e.g. "flags"; "" for the whole tree) in commit `id`, in git's tree order (by name, depth first).
    ///
    /// Returns an empty array when `prefix` does not exist or is not a directory in that commit.
    public func entries(inCommit id: ObjectID, under prefix: String) throws(GitError) -> [TreeEntry] {
        let prefix = normalizedPrefix(prefix)
        let operation = "list '\(prefix)' in commit \(id.shortHex) of \(displayPath)"
        guard let tree = try subtree(ofCommit: id, at: prefix, operation) else { return [] }
        defer { git_tree_free(tree) }
        var entries = [TreeEntry]()
        try collectEntries(of: tree, at: prefix, into: &entries, operation)
        return entries
    }

    /// The id of the entry at the exact `path` (file, directory or submodule) in commit `commit`; nil when absent.
    public func entryID(atPath path: String, inCommit commit: ObjectID) throws(GitError) -> ObjectID? {
        let path = normalizedPrefix(path)
        let operation = "look up '\(path)' in commit \(commit.shortHex) of \(displayPath)"
        return try withTree(ofCommit: commit, operation) { (tree) throws(GitError) -> ObjectID? in
            if path.isEmpty {
                return ObjectID(git_tree_id(tree))
            }
            var entry: OpaquePointer?
            let result = git_tree_entry_bypath(&entry, tree, path)
            if result == GIT_ENOTFOUND.rawValue { return nil }
            try check(result, operation)
            defer { git_tree_entry_free(entry) }
            return ObjectID(git_tree_entry_id(entry))
        }
    }

    /// The id of the directory at `path` (already normalized; "" for the root) in commit `commit`; nil when absent or
    /// not a directory. Only the directories above it are parsed, never the directory itself.
    func directoryID(atPath path: String, inCommit commit: ObjectID, _ operation: @autoclosure () -> String) throws(GitError) -> ObjectID? {
        try withTree(ofCommit: commit, operation()) { (tree) throws(GitError) -> ObjectID? in
            if path.isEmpty {
                return ObjectID(git_tree_id(tree))
            }
            var entry: OpaquePointer?
            let result = git_tree_entry_bypath(&entry, tree, path)
            if result == GIT_ENOTFOUND.rawValue { return nil }
            try check(result, operation())
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return nil }
            return ObjectID(git_tree_entry_id(entry))
        }
    }

    /// The id of the entry called `name` directly inside the tree `tree`; nil when absent, or when `tree` is not a tree.
    ///
    /// It scans the raw tree object instead of parsing it into libgit2's entry table, which makes a lookup in a
    /// directory of 10,000 flags several times cheaper. `halyard history` does one per commit that touched the
    /// flag's environment.
    public func entryID(named name: String, inTree tree: ObjectID) throws(GitError) -> ObjectID? {
        let operation = "look up '\(name)' in tree \(tree.shortHex) of \(displayPath)"
        let target = Array(name.utf8)
        if target.isEmpty { return nil }
        return try withRawTree(tree, operation) { bytes -> ObjectID? in
            // Each entry is "<octal mode> <name>\0<20-byte id>"; names are compared without copying them.
            var offset = 0
            while let entry = RawTreeEntry(in: bytes, at: offset) {
                if entry.nameEnd - entry.nameStart == target.count,
                    target.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress! + entry.nameStart, target.count) }) == 0
                {
                    return entry.id(in: bytes)
                }
                offset = entry.end
            }
            return nil
        } ?? nil
    }

    private func collectEntries(
        of tree: OpaquePointer,
        at directory: String,
        into entries: inout [TreeEntry],
        _ operation: String
    ) throws(GitError) {
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let path = joinPath(directory, String(gitString: git_tree_entry_name(entry)))
            let mode = git_tree_entry_filemode(entry).rawValue
            guard let kind = TreeEntryKind(mode: UInt32(mode)) else { continue }
            if kind == .tree {
                var subtree: OpaquePointer?
                try check(git_tree_lookup(&subtree, pointer, git_tree_entry_id(entry)), operation)
                defer { git_tree_free(subtree) }
                try collectEntries(of: subtree!, at: path, into: &entries, operation)
            } else {
                entries.append(TreeEntry(path: path, id: ObjectID(git_tree_entry_id(entry)), kind: kind))
            }
        }
    }
}
