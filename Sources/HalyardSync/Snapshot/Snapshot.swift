import HalyardRules

/// A flag as it was loaded from one file, with the fingerprints that change detection and ETags use.
///
/// Fingerprints are computed once, at load time, so that comparing two snapshots never re-serialises a flag.
public struct LoadedFlag: Sendable {
    /// The validated, compiled flag.
    public let flag: Flag
    /// The file it came from, relative to the repository root (`flags/production/new-checkout.json`).
    public let file: String
    /// The git blob id of the file, when it was read from git.
    public let blobID: String?
    /// A hash of `active`, `baseState` and the normalised `rules`: equal iff the flag evaluates the same.
    public let targetingFingerprint: String
    /// A hash of the whole normalised flag, metadata included.
    public let fingerprint: String

    public init(flag: Flag, file: String, blobID: String?) {
        self.flag = flag
        self.file = file
        self.blobID = blobID
        let normalized = flag.normalizedJSON
        self.fingerprint = Fingerprint.of(normalized.jsonText)
        var targeting: [String: JSONValue] = [:]
        if case .object(let fields) = normalized {
            for key in ["active", "baseState", "rules"] { targeting[key] = fields[key] }
        }
        self.targetingFingerprint = Fingerprint.of(JSONValue.object(targeting).jsonText)
    }
}

/// Every flag of one environment at one commit, immutable.
public struct EnvironmentSnapshot: Sendable {
    /// The environment's name (its directory under the flags directory).
    public let name: String
    /// The flags by id.
    public let flags: [String: LoadedFlag]
    /// Flag ids in ascending order, for stable listings.
    public let sortedIDs: [String]
    /// A hash of every flag's full fingerprint: the environment's `ETag`.
    public let digest: String

    public init(name: String, flags: [String: LoadedFlag]) {
        self.name = name
        self.flags = flags
        self.sortedIDs = flags.keys.sorted()
        var hasher = Fingerprint()
        for id in sortedIDs {
            hasher.combine(id)
            hasher.combine(flags[id]!.fingerprint)
        }
        self.digest = hasher.hex
    }

    /// The flag with this id, if the environment has it.
    public func flag(_ id: String) -> Flag? { flags[id]?.flag }
}

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
    /// Warnings found while loading (deprecated syntax, `%` rules without `attribute`).
    public let warnings: [Diagnostic]
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
        self.warnings = filesByPath.keys.sorted().flatMap { filesByPath[$0]!.warnings }
    }

    /// Environment names in ascending order.
    public var environmentNames: [String] { environments.keys.sorted() }

    /// The number of flags over all environments.
    public var flagCount: Int { environments.values.reduce(0) { $0 + $1.flags.count } }
}

/// A short, stable 64-bit FNV-1a hash in hex, used for fingerprints and digests.
///
/// It is not a security boundary: it only has to make accidental collisions between flag versions vanishingly rare.
public struct Fingerprint: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ string: String) {
        for byte in string.utf8 { combine(byte) }
        combine(0)
    }

    @inline(__always)
    mutating func combine(_ byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01b3
    }

    /// The hash as 16 lower-case hex digits.
    public var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The fingerprint of one string.
    public static func of(_ string: String) -> String {
        var hasher = Fingerprint()
        hasher.combine(string)
        return hasher.hex
    }
}
