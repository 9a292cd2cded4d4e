/// A commit's metadata, copied out of libgit2 so it can travel between actors.
///
/// Halyard needs the tree (to read flags), the parents (to diff against the first parent and walk history) and the
/// author, date and subject (for the audit log and webhook payloads).
public struct Commit: Sendable, Equatable {
    /// The commit's own id.
    public var id: ObjectID
    /// The id of the commit's root tree.
    public var tree: ObjectID
    /// The parents' ids, first parent first; empty for a root commit, two or more for a merge.
    public var parents: [ObjectID]
    /// Who wrote the change.
    public var author: Signature
    /// Who made the commit (differs from the author after a rebase, cherry-pick or web merge).
    public var committer: Signature
    /// The full message as stored (leading blank lines removed), usually ending in a newline.
    public var message: String
    /// The message's first line, without its line ending.
    public var subject: String

    /// Creates a commit value; ``subject`` is derived from `message`.
    public init(id: ObjectID, tree: ObjectID, parents: [ObjectID], author: Signature, committer: Signature, message: String) {
        self.id = id
        self.tree = tree
        self.parents = parents
        self.author = author
        self.committer = committer
        self.message = message
        var subject = message.prefix { $0 != "\n" && $0 != "\r\n" }
        if subject.last == "\r" {
            subject.removeLast()
        }
        self.subject = String(subject)
    }
}
