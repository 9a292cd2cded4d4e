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
    /// This flag's share of its environment's digest: a hash of its id and fingerprint.
    let digestContribution: UInt64

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
        var contribution = Fingerprint()
        contribution.combine(flag.id)
        contribution.combine(fingerprint)
        self.digestContribution = contribution.value
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
    /// The wrapping sum of every flag's digest contribution; a sum, so that one changed flag updates it in O(1).
    private let digestSum: UInt64

    public init(name: String, flags: [String: LoadedFlag]) {
        self.name = name
        self.flags = flags
        self.sortedIDs = flags.keys.sorted()
        self.digestSum = flags.values.reduce(0) { $0 &+ $1.digestContribution }
    }

    private init(name: String, flags: [String: LoadedFlag], sortedIDs: [String], digestSum: UInt64) {
        self.name = name
        self.flags = flags
        self.sortedIDs = sortedIDs
        self.digestSum = digestSum
    }

    /// A hash of every flag's id and full fingerprint: the environment's `ETag`.
    public var digest: String {
        let digits = String(digestSum, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The flag with this id, if the environment has it.
    public func flag(_ id: String) -> Flag? { flags[id]?.flag }

    /// This environment with some flags removed and some added or replaced, in time proportional to the change;
    /// nil when no flag is left.
    func updated(removing removed: Set<String>, adding added: [String: LoadedFlag]) -> EnvironmentSnapshot? {
        var flags = self.flags
        var sortedIDs = self.sortedIDs
        var digestSum = self.digestSum
        for id in removed where added[id] == nil {
            guard let old = flags.removeValue(forKey: id) else { continue }
            digestSum &-= old.digestContribution
            if let index = sortedIDs.sortedIndex(of: id), index < sortedIDs.count, sortedIDs[index] == id {
                sortedIDs.remove(at: index)
            }
        }
        for (id, flag) in added {
            if let old = flags.updateValue(flag, forKey: id) {
                digestSum &-= old.digestContribution
            } else if let index = sortedIDs.sortedIndex(of: id) {
                sortedIDs.insert(id, at: index)
            }
            digestSum &+= flag.digestContribution
        }
        if flags.isEmpty { return nil }
        return EnvironmentSnapshot(name: name, flags: flags, sortedIDs: sortedIDs, digestSum: digestSum)
    }
}

extension Array where Element == String {
    /// The index where `value` is or would be inserted in this ascending array.
    fileprivate func sortedIndex(of value: String) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
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

    /// The hash as a number.
    public var value: UInt64 { state }

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
