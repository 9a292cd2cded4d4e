/// One changed path between two trees.
///
/// The snapshot loader parses only the blobs that changed since the applied commit; a change names both sides' ids and
/// kinds so it can tell an edit from a file turning into a symlink.
public struct TreeChange: Sendable, Equatable {
    /// How the path changed.
    public enum Status: Sendable {
        /// The path exists only on the new side.
        case added
        /// The path exists only on the old side.
        case deleted
        /// The path exists on both sides with different content or mode (a blob made executable is modified).
        case modified
        /// The path changed between file, symlink and submodule.
        case typeChanged
    }

    /// How the path changed.
    public var status: Status
    /// The path from the repository root.
    public var path: String
    /// The old blob id, nil when added.
    public var oldID: ObjectID?
    /// The new blob id, nil when deleted.
    public var newID: ObjectID?
    /// The old kind, nil when added.
    public var oldKind: TreeEntryKind?
    /// The new kind, nil when deleted.
    public var newKind: TreeEntryKind?

    /// Creates a change.
    public init(
        status: Status,
        path: String,
        oldID: ObjectID?,
        newID: ObjectID?,
        oldKind: TreeEntryKind?,
        newKind: TreeEntryKind?
    ) {
        self.status = status
        self.path = path
        self.oldID = oldID
        self.newID = newID
        self.oldKind = oldKind
        self.newKind = newKind
    }
}
