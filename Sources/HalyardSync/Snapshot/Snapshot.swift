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
        files.warningsByPath.sorted { $0.key < $1.key }.flatMap(\.value)
    }
    /// What the next commit needs to be loaded incrementally, besides the flags.
    let files: Files

    /// The files of the flags directory that are not flags, and the warnings of flag files, by path.
    ///
    /// A flag file is found through its environment and id (``FlagPath/classify(_:)`` of its path), not kept here: a
    /// record per flag was a path string and a dictionary slot, several megabytes of a big snapshot.
    struct Files: Sendable {
        /// Files that are not flags and not errors (README, `.gitkeep`).
        var ignored: Set<String> = []
        /// The warnings of each flag file that has some.
        var warningsByPath: [String: [Diagnostic]] = [:]

        static let none = Files()
    }

    init(commit: String?, flagsDirectory: String, environments: [String: EnvironmentSnapshot], files: Files) {
        self.commit = commit
        self.flagsDirectory = flagsDirectory
        self.environments = environments
        self.files = files
    }

    /// Environment names in ascending order.
    public var environmentNames: [String] { environments.keys.sorted() }

    /// The number of flags over all environments.
    public var flagCount: Int { environments.values.reduce(0) { $0 + $1.flags.count } }
}
