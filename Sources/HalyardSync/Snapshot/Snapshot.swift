import Crypto
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
    let digestContribution: DigestSum

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
        self.digestContribution = DigestSum(id: flag.id, fingerprint: fingerprint)
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
    /// The sum of every flag's digest contribution; a sum, so that one changed flag updates it in O(1).
    private let digestSum: DigestSum
    /// A SHA-256 hash of every flag's id and full fingerprint, in hex: the environment's `ETag`.
    public let digest: String

    public init(name: String, flags: [String: LoadedFlag]) {
        var sum = DigestSum.zero
        for flag in flags.values { sum.add(flag.digestContribution) }
        self.init(name: name, flags: flags, sortedIDs: flags.keys.sorted(), digestSum: sum)
    }

    private init(name: String, flags: [String: LoadedFlag], sortedIDs: [String], digestSum: DigestSum) {
        self.name = name
        self.flags = flags
        self.sortedIDs = sortedIDs
        self.digestSum = digestSum
        self.digest = digestSum.hex
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
            digestSum.subtract(old.digestContribution)
            if let index = sortedIDs.sortedIndex(of: id), index < sortedIDs.count, sortedIDs[index] == id {
                sortedIDs.remove(at: index)
            }
        }
        for (id, flag) in added {
            if let old = flags.updateValue(flag, forKey: id) {
                digestSum.subtract(old.digestContribution)
            } else if let index = sortedIDs.sortedIndex(of: id) {
                sortedIDs.insert(id, at: index)
            }
            digestSum.add(flag.digestContribution)
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

/// A SHA-256 hash in hex, used for fingerprints and the context part of OFREP ETags.
///
/// Each combined string is followed by a zero byte, so `("ab", "c")` and `("a", "bc")` hash differently.
public struct Fingerprint: Sendable {
    private var hasher = SHA256()

    public init() {}

    public mutating func combine(_ string: String) {
        hasher.update(data: Array(string.utf8))
        hasher.update(data: [0])
    }

    /// The hash as 64 lower-case hex digits.
    public var hex: String { hasher.finalize().hexString }

    /// The fingerprint of one string.
    public static func of(_ string: String) -> String {
        var hasher = Fingerprint()
        hasher.combine(string)
        return hasher.hex
    }
}

/// An order-independent hash of a set of (flag id, fingerprint) pairs that one changed flag updates in O(1).
///
/// Each pair contributes 2,048 bits derived with SHA-256 (eight hashes of a counter and the pair); an environment's
/// sum is the sum of its flags' contributions modulo 2^2048, and its digest the SHA-256 of that sum. The wide sum keeps
/// an additive multiset hash out of reach of generalised-birthday collisions, which a 64- or 256-bit sum is not.
struct DigestSum: Sendable, Equatable {
    private static let blocks = 8
    private static let limbCount = blocks * 4
    private var limbs: [UInt64]

    private init(limbs: [UInt64]) { self.limbs = limbs }

    /// The sum of no contribution.
    static let zero = DigestSum(limbs: Array(repeating: 0, count: limbCount))

    /// The contribution of one flag.
    init(id: String, fingerprint: String) {
        let pair = Array(id.utf8) + [0] + Array(fingerprint.utf8)
        var limbs: [UInt64] = []
        limbs.reserveCapacity(Self.limbCount)
        for block in 0..<Self.blocks {
            var hasher = SHA256()
            hasher.update(data: [UInt8(block)])
            hasher.update(data: pair)
            let bytes = Array(hasher.finalize())
            for limb in 0..<4 {
                var value: UInt64 = 0
                for byte in bytes[(limb * 8)..<(limb * 8 + 8)] { value = value << 8 | UInt64(byte) }
                limbs.append(value)
            }
        }
        self.limbs = limbs
    }

    mutating func add(_ other: DigestSum) {
        var carry = false
        for index in limbs.indices {
            let (partial, overflow1) = limbs[index].addingReportingOverflow(other.limbs[index])
            let (sum, overflow2) = partial.addingReportingOverflow(carry ? 1 : 0)
            limbs[index] = sum
            carry = overflow1 || overflow2
        }
    }

    mutating func subtract(_ other: DigestSum) {
        var borrow = false
        for index in limbs.indices {
            let (partial, overflow1) = limbs[index].subtractingReportingOverflow(other.limbs[index])
            let (difference, overflow2) = partial.subtractingReportingOverflow(borrow ? 1 : 0)
            limbs[index] = difference
            borrow = overflow1 || overflow2
        }
    }

    /// The SHA-256 of the sum, in hex.
    var hex: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.limbCount * 8)
        for limb in limbs {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        return SHA256.hash(data: bytes).hexString
    }
}

extension Sequence where Element == UInt8 {
    /// The bytes as lower-case hex digits.
    fileprivate var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
