import HalyardRules

/// A flag as it was loaded from one file, with the fingerprints that change detection and ETags use.
///
/// Fingerprints are computed once, at load time, so that comparing two snapshots never re-serialises a flag. They are
/// kept as 32-byte digests and written out in hex only when asked for: a snapshot holds one `LoadedFlag` per flag, and
/// two 64-character strings per flag were a large part of a big snapshot's memory.
public struct LoadedFlag: Sendable {
    /// The validated, compiled flag.
    public let flag: Flag
    /// The file it came from, relative to the repository root (`flags/production/new-checkout.json`).
    public let file: String
    /// The git blob id of the file, when it was read from git.
    public let blobID: String?
    /// `targetingFingerprint` as 32 bytes.
    let targetingDigest: Digest256
    /// `fingerprint` as 32 bytes.
    let fingerprintDigest: Digest256

    /// A hash of `active`, `baseState` (typed flags: `variants` and `defaultVariant`) and the normalised `rules`: equal
    /// iff the flag evaluates the same (DESIGN §4 "changed"). 64 lower-case hex digits.
    public var targetingFingerprint: String { targetingDigest.hex }
    /// A hash of the whole normalised flag, metadata included. 64 lower-case hex digits.
    public var fingerprint: String { fingerprintDigest.hex }
    /// This flag's share of its environment's digest: a hash of its id and fingerprint. Computed when an environment
    /// is built or a flag replaced, rather than kept (it is 256 bytes).
    var digestContribution: DigestSum { DigestSum(id: flag.id, fingerprint: fingerprint) }

    /// Wraps a validated flag and computes its fingerprints once.
    public init(flag: Flag, file: String, blobID: String?) {
        self.flag = flag
        self.file = file
        self.blobID = blobID
        let normalized = flag.normalizedJSON
        self.fingerprintDigest = Fingerprint.digest(of: normalized.jsonText)
        var targeting: [String: JSONValue] = [:]
        if case .object(let fields) = normalized {
            for key in ["active", "baseState", "variants", "defaultVariant", "rules"] { targeting[key] = fields[key] }
        }
        self.targetingDigest = Fingerprint.digest(of: JSONValue.object(targeting).jsonText)
    }
}
