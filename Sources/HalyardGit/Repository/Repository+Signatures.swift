internal import CLibgit2

extension Repository {
    /// The signature of commit `id` and the data it signs, or nil when the commit is not signed.
    ///
    /// Reads the `gpgsig` header with `git_commit_extract_signature`. A commit that does not exist is an error, so
    /// "unsigned" is never confused with "missing".
    ///
    /// ```swift
    /// if let signed = try repository.signature(ofCommit: head), signed.format == .ssh {
    ///     // verify signed.signature over signed.signedData
    /// }
    /// ```
    public func signature(ofCommit id: ObjectID) throws(GitError) -> CommitSignature? {
        let operation = "read the signature of commit \(id.shortHex) in \(displayPath)"
        // Look the commit up first: git_commit_extract_signature answers GIT_ENOTFOUND for both "no such commit" and
        // "not signed".
        try withCommit(id, operation) { _ in }
        var oid = id.oid
        var signature = git_buf()
        var signedData = git_buf()
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&signedData)
        }
        let result = git_commit_extract_signature(&signature, &signedData, pointer, &oid, nil)
        if result == GIT_ENOTFOUND.rawValue {
            git_error_clear()
            return nil
        }
        try check(result, operation)
        return CommitSignature(signature: Self.bytes(of: signature), signedData: Self.bytes(of: signedData))
    }

    private static func bytes(of buffer: git_buf) -> [UInt8] {
        guard let data = buffer.ptr, buffer.size > 0 else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: data, count: buffer.size))
    }
}
