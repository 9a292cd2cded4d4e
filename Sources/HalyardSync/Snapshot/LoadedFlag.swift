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
    /// A hash of `active`, `baseState` (typed flags: `variants` and `defaultVariant`) and the normalised `rules`: equal
    /// iff the flag evaluates the same (DESIGN §4 "changed").
    public let targetingFingerprint: String
    /// A hash of the whole normalised flag, metadata included.
    public let fingerprint: String
    /// This flag's share of its environment's digest: a hash of its id and fingerprint.
    let digestContribution: DigestSum

    /// Wraps a validated flag and computes its fingerprints once.
    public init(flag: Flag, file: String, blobID: String?) {
        self.flag = flag
        self.file = file
        self.blobID = blobID
        let normalized = flag.normalizedJSON
        self.fingerprint = Fingerprint.of(normalized.jsonText)
        var targeting: [String: JSONValue] = [:]
        if case .object(let fields) = normalized {
            for key in ["active", "baseState", "variants", "defaultVariant", "rules"] { targeting[key] = fields[key] }
        }
        self.targetingFingerprint = Fingerprint.of(JSONValue.object(targeting).jsonText)
        self.digestContribution = DigestSum(id: flag.id, fingerprint: fingerprint)
    }
}
