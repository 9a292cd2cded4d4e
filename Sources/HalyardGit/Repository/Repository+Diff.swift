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
        var changes = [TreeChange]()
        try diffRawTrees(
            old: oldTree.map { ObjectID(git_tree_id($0)) },
            new: newTree.map { ObjectID(git_tree_id($0)) },
            at: prefix,
            into: &changes,
            operation
        )
        return changes
    }
}
