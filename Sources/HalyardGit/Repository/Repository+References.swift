internal import CLibgit2

extension Repository {
    /// Resolves a revision to a commit id, as `git rev-parse <revision>^{commit}` does.
    ///
    /// Accepts a full or abbreviated sha, a branch, a tag (annotated tags are peeled to their commit), `HEAD~2`,
    /// `main^2`, `origin/main` and the rest of git's revision syntax. An unknown revision throws a ``GitError`` whose
    /// ``GitError/isNotFound`` is true.
    public func resolveCommit(_ revision: String) throws(GitError) -> ObjectID {
        let operation = "resolve revision '\(revision)' in \(displayPath)"
        var object: OpaquePointer?
        let result = git_revparse_single(&object, pointer, revision)
        if result < 0 {
            var error = GitError.last(result, operation: operation)
            if error.isNotFound, git_repository_head_unborn(pointer) == 1, revision.hasPrefix("HEAD") || revision.hasPrefix("@") {
                error.message += " (the repository has no commits yet)"
            }
            throw error
        }
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), operation)
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// The short name of the branch HEAD names ("main"), also when that branch has no commits yet; nil when HEAD is
    /// detached.
    public func currentBranch() throws(GitError) -> String? {
        guard let target = try symbolicTarget(of: "HEAD") else { return nil }
        return target.hasPrefix("refs/heads/") ? String(target.dropFirst("refs/heads/".count)) : target
    }

    /// The branch the remote "origin" has checked out (its HEAD), if known; nil otherwise.
    ///
    /// For a ``cloneMirror(from:to:credentials:)`` mirror this is the mirror's HEAD branch, which clone and
    /// ``fetch(remote:credentials:)`` keep equal to the remote's HEAD. For an ordinary clone it is the target of
    /// `refs/remotes/origin/HEAD`. Halyard serves this branch when none is configured.
    public func defaultRemoteBranch() throws(GitError) -> String? {
        let remotePrefix = "refs/remotes/origin/"
        if let target = try symbolicTarget(of: remotePrefix + "HEAD"), target.hasPrefix(remotePrefix) {
            return String(target.dropFirst(remotePrefix.count))
        }
        guard isBare, try isMirror(remote: "origin") else { return nil }
        return try currentBranch()
    }

    /// The commit a reference points to ("refs/heads/main", "refs/tags/v1", "HEAD"), following symbolic references
    /// and peeling tags; nil if the reference, or the branch a symbolic reference names, does not exist.
    public func referenceTarget(_ name: String) throws(GitError) -> ObjectID? {
        let operation = "read reference '\(name)' in \(displayPath)"
        var reference: OpaquePointer?
        let lookup = git_reference_lookup(&reference, pointer, name)
        if lookup == GIT_ENOTFOUND.rawValue { return nil }
        try check(lookup, operation)
        defer { git_reference_free(reference) }
        var resolved: OpaquePointer?
        let resolve = git_reference_resolve(&resolved, reference)
        if resolve == GIT_ENOTFOUND.rawValue { return nil }
        try check(resolve, operation)
        defer { git_reference_free(resolved) }
        var commit: OpaquePointer?
        try check(git_reference_peel(&commit, resolved, GIT_OBJECT_COMMIT), operation)
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// The full name a symbolic reference points to; nil when the reference is missing or direct.
    func symbolicTarget(of name: String) throws(GitError) -> String? {
        var reference: OpaquePointer?
        let lookup = git_reference_lookup(&reference, pointer, name)
        if lookup == GIT_ENOTFOUND.rawValue { return nil }
        try check(lookup, "read reference '\(name)' in \(displayPath)")
        defer { git_reference_free(reference) }
        guard git_reference_type(reference) == GIT_REFERENCE_SYMBOLIC else { return nil }
        return String(gitString: git_reference_symbolic_target(reference))
    }
}
