import HalyardRules

/// Every environment's flags at one commit (or in a working tree): the unit Halyard validates, diffs and serves.
///
/// A snapshot is only ever built from a flag set that validated without errors, so holding one means holding good flags.
public struct Snapshot: Sendable {
    /// The commit it was read from, or `nil` for a working tree.
    public let commit: String?
    /// The flags directory inside the repository, e.g. `flags`.
    public let flagsDirectory: String
    /// The environments by name.
    public let environments: [String: EnvironmentSnapshot]
    /// Warnings found while loading (deprecated syntax, `%` rules without `attribute`), by file.
    public var warnings: [Diagnostic] {
        filesByPath.filter { !$0.value.warnings.isEmpty }.sorted { $0.key < $1.key }.flatMap(\.value.warnings)
    }
    /// Ignored and flag files by path, so the next commit can be loaded incrementally.
    let filesByPath: [String: FileRecord]

    /// Where a file of the flags directory went when this snapshot was built.
    struct FileRecord: Sendable {
        var blobID: String?
        var environment: String?
        var flagID: String?
        var warnings: [Diagnostic]
    }

    init(
        commit: String?,
        flagsDirectory: String,
        environments: [String: EnvironmentSnapshot],
        filesByPath: [String: FileRecord]
    ) {
        self.commit = commit
        self.flagsDirectory = flagsDirectory
        self.environments = environments
        self.filesByPath = filesByPath
    }

    /// Environment names in ascending order.
    public var environmentNames: [String] { environments.keys.sorted() }

    /// The number of flags over all environments.
    public var flagCount: Int { environments.values.reduce(0) { $0 + $1.flags.count } }
}
