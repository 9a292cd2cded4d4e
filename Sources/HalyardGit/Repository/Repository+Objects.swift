internal import CLibgit2

extension Repository {
    /// The metadata of the commit `id`.
    public func commit(_ id: ObjectID) throws(GitError) -> Commit {
        try withCommit(id, "read commit \(id.shortHex) in \(displayPath)") { commit in
            Self.makeCommit(commit, id: id)
        }
    }

    /// The content of the blob `id`.
    public func blob(_ id: ObjectID) throws(GitError) -> [UInt8] {
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &oid), "read blob \(id.shortHex) in \(displayPath)")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        return [UInt8](UnsafeRawBufferPointer(start: git_blob_rawcontent(blob), count: size))
    }

    /// The size in bytes of the blob `id`, read from the object header without loading the content.
    ///
    /// Halyard rejects flag files over 1 MiB before reading them.
    public func blobSize(_ id: ObjectID) throws(GitError) -> Int {
        let operation = "read the size of blob \(id.shortHex) in \(displayPath)"
        var database: OpaquePointer?
        try check(git_repository_odb(&database, pointer), operation)
        defer { git_odb_free(database) }
        var oid = id.oid
        var size = 0
        var type = GIT_OBJECT_INVALID
        try check(git_odb_read_header(&size, &type, database, &oid), operation)
        guard type == GIT_OBJECT_BLOB else {
            throw .halyard(GIT_ENOTFOUND, GIT_ERROR_INVALID, "object \(id.shortHex) is not a blob", operation: operation)
        }
        return size
    }

    // MARK: - Internal helpers

    /// Runs `body` with the commit `id` looked up; the handle is freed afterwards.
    func withCommit<Result>(
        _ id: ObjectID,
        _ operation: @autoclosure () -> String,
        _ body: (OpaquePointer) throws(GitError) -> Result
    ) throws(GitError) -> Result {
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, pointer, &oid), operation())
        defer { git_commit_free(commit) }
        return try body(commit!)
    }

    /// Runs `body` with the root tree of commit `id`; the handle is freed afterwards.
    func withTree<Result>(
        ofCommit id: ObjectID,
        _ operation: @autoclosure () -> String,
        _ body: (OpaquePointer) throws(GitError) -> Result
    ) throws(GitError) -> Result {
        try withCommit(id, operation()) { (commit) throws(GitError) -> Result in
            var tree: OpaquePointer?
            try check(git_commit_tree(&tree, commit), operation())
            defer { git_tree_free(tree) }
            return try body(tree!)
        }
    }

    /// The tree at directory `prefix` ("" for the root) of commit `id`, or nil when absent or not a directory.
    ///
    /// The caller owns the returned handle and frees it with `git_tree_free`.
    func subtree(ofCommit id: ObjectID, at prefix: String, _ operation: @autoclosure () -> String) throws(GitError) -> OpaquePointer? {
        guard let directory = try directoryID(atPath: prefix, inCommit: id, operation()) else { return nil }
        var tree: OpaquePointer?
        var oid = directory.oid
        try check(git_tree_lookup(&tree, pointer, &oid), operation())
        return tree
    }

    /// A ``Commit`` value from a libgit2 commit handle.
    static func makeCommit(_ commit: OpaquePointer, id: ObjectID) -> Commit {
        let count = git_commit_parentcount(commit)
        var parents = [ObjectID]()
        parents.reserveCapacity(Int(count))
        for index in 0..<count {
            parents.append(ObjectID(git_commit_parent_id(commit, index)))
        }
        return Commit(
            id: id,
            tree: ObjectID(git_commit_tree_id(commit)),
            parents: parents,
            author: Signature(git_commit_author(commit)),
            committer: Signature(git_commit_committer(commit)),
            message: String(gitString: git_commit_message(commit))
        )
    }
}
