/// What a tree entry is, from its git file mode.
///
/// Halyard rejects symlinks and submodules inside the flags directory and must see them to say so, so entries are
/// never silently narrowed to plain files.
public enum TreeEntryKind: Sendable, Equatable {
    /// A regular file (mode 100644).
    case blob
    /// An executable file (mode 100755).
    case executable
    /// A symbolic link (mode 120000); its blob holds the link target.
    case symlink
    /// A directory (mode 040000).
    case tree
    /// A submodule, or gitlink (mode 160000); its id is a commit in another repository.
    case submodule

    /// The kind for a git file mode, nil for 0 (absent) or a mode git does not write.
    init?(mode: UInt32) {
        switch mode & 0o170000 {
        case 0o100000: self = mode & 0o111 != 0 ? .executable : .blob
        case 0o120000: self = .symlink
        case 0o040000: self = .tree
        case 0o160000: self = .submodule
        default: return nil
        }
    }
}

/// A file-like entry of a commit's tree, with its path from the repository root.
///
/// A snapshot of the flags directory is the list of these entries; the loader reads the blobs it needs by ``id``.
public struct TreeEntry: Sendable, Equatable {
    /// The path from the repository root, e.g. "flags/production/a.json".
    public var path: String
    /// The blob id (for a submodule, the commit id it pins).
    public var id: ObjectID
    /// What the entry is.
    public var kind: TreeEntryKind

    /// Creates an entry.
    public init(path: String, id: ObjectID, kind: TreeEntryKind) {
        self.path = path
        self.id = id
        self.kind = kind
    }
}
