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
        let newTree = try subtree(ofCommit: to, at: prefix, operation)
        defer { git_tree_free(newTree) }
        let oldTree = try from.flatMap { (id) throws(GitError) in try subtree(ofCommit: id, at: prefix, operation) }
        defer { git_tree_free(oldTree) }
        if oldTree == nil && newTree == nil {
            return []
        }

        var options = git_diff_options()
        try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), operation)
        options.flags = GIT_DIFF_INCLUDE_TYPECHANGE.rawValue
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, &options), operation)
        defer { git_diff_free(diff) }

        let count = git_diff_num_deltas(diff)
        var changes = [TreeChange]()
        changes.reserveCapacity(count)
        for index in 0..<count {
            guard let delta = git_diff_get_delta(diff, index)?.pointee else { continue }
            let status: TreeChange.Status
            switch delta.status {
            case GIT_DELTA_ADDED: status = .added
            case GIT_DELTA_DELETED: status = .deleted
            case GIT_DELTA_TYPECHANGE: status = .typeChanged
            default: status = .modified
            }
            let relativePath = String(gitString: delta.new_file.path ?? delta.old_file.path)
            changes.append(
                TreeChange(
                    status: status,
                    path: joinPath(prefix, relativePath),
                    oldID: status == .added ? nil : ObjectID(delta.old_file.id),
                    newID: status == .deleted ? nil : ObjectID(delta.new_file.id),
                    oldKind: status == .added ? nil : TreeEntryKind(mode: UInt32(delta.old_file.mode)),
                    newKind: status == .deleted ? nil : TreeEntryKind(mode: UInt32(delta.new_file.mode))
                )
            )
        }
        return changes
    }
}
