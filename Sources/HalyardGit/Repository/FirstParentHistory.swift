internal import CLibgit2

extension Repository {
    /// The commits from `start` back along first parents, newest first, as a lazy ``FirstParentHistory`` of ``Commit``.
    ///
    /// This is the history of a branch as its merges recorded it: a merged branch's own commits are skipped, its merge
    /// commit is listed. `halyard history` compares each commit with its first parent. Throws when `start` is not a
    /// commit.
    ///
    /// ```swift
    /// for commit in try repository.firstParentHistory(from: tip).prefix(50) {
    ///     print(commit.id.shortHex, commit.subject)
    /// }
    /// ```
    public func firstParentHistory(from start: ObjectID) throws(GitError) -> FirstParentHistory {
        _ = try withCommit(start, "walk the history from \(start.shortHex) in \(displayPath)") { _ in () }
        return FirstParentHistory(repository: self, start: start)
    }
}

/// The first-parent history of a commit: a lazy, restartable sequence of ``Commit`` values, newest first.
///
/// Each step looks up one commit, so walking a few thousand commits takes milliseconds and stopping early costs nothing.
/// A `Sequence` cannot throw: if a commit cannot be read (a corrupt or shallow repository), the iteration ends early
/// and the iterator's ``Iterator/error`` says why. ``commits(limit:)`` throws that error instead.
/// Like its ``Repository``, the sequence is confined to the repository's isolation domain.
public struct FirstParentHistory: Sequence {
    /// The repository walked.
    let repository: Repository
    /// The newest commit.
    public let start: ObjectID

    /// Steps from a commit to its first parent.
    public struct Iterator: IteratorProtocol {
        let repository: Repository
        var nextID: ObjectID?
        /// Why the walk ended before reaching a root commit, if it did.
        public private(set) var error: GitError?

        /// The next (older) commit, or nil after the root commit or a failure (see ``error``).
        public mutating func next() -> Commit? {
            do {
                return try nextCommit()
            } catch {
                self.error = error
                nextID = nil
                return nil
            }
        }

        /// The next (older) commit, or nil after the root commit; throws when a commit cannot be read.
        public mutating func nextCommit() throws(GitError) -> Commit? {
            guard let id = nextID else { return nil }
            let repository = self.repository
            let commit = try repository.withCommit(id, "walk the history at \(id.shortHex) in \(repository.displayPath)") { commit in
                Repository.makeCommit(commit, id: id)
            }
            nextID = commit.parents.first
            return commit
        }
    }

    /// A fresh walk from ``start``.
    public func makeIterator() -> Iterator {
        Iterator(repository: repository, nextID: start)
    }

    /// Up to `limit` commits of the walk, throwing if a commit cannot be read.
    public func commits(limit: Int = .max) throws(GitError) -> [Commit] {
        var iterator = makeIterator()
        var commits = [Commit]()
        while commits.count < limit, let commit = try iterator.nextCommit() {
            commits.append(commit)
        }
        return commits
    }
}

/// Confined like its ``Repository``.
@available(*, unavailable)
extension FirstParentHistory: Sendable {}

/// Confined like its ``Repository``.
@available(*, unavailable)
extension FirstParentHistory.Iterator: Sendable {}
