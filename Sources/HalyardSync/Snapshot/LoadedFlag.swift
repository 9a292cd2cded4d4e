import HalyardGit
import HalyardRules

/// A flag as it was loaded from one file, with the fingerprints that change detection and ETags use.
///
/// Fingerprints are computed once, at load time, so that comparing two snapshots never re-serialises a flag. They are
/// kept as 32-byte digests and written out in hex only when asked for: a snapshot holds one `LoadedFlag` per flag, and
/// two 64-character strings per flag were a large part of a big snapshot's memory.
///
/// It is an immutable class rather than a struct so that an environment's dictionary holds one reference per flag: the
/// value inline was 264 bytes, and a dictionary keeps a quarter to a half of its slots empty.
public final class LoadedFlag: Sendable {
    /// The validated, compiled flag.
    public let flag: Flag
    /// The file it came from, relative to the repository root (`flags/production/new-checkout.json`).
    public var file: String {
        switch location {
        case .directory(let directory): directory + flag.id + ".json"
        case .path(let path): path
        }
    }
    /// Where ``file`` is, kept without a string of its own per flag where possible.
    let location: Location
    /// The git blob id of the file, when it was read from git.
    public let blobID: ObjectID?
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

    /// Where a flag's file is.
    enum Location: Sendable {
        /// The file is `<directory><id>.json`; the loader gives every flag of an environment the same directory string
        /// (`flags/production/`), so that a snapshot holds one path string per environment, not one per flag.
        case directory(String)
        /// Any other path, whole.
        case path(String)
    }

    /// The same flag read from another file with the same bytes and flag id: the flag and its fingerprints are shared,
    /// not decoded again, and the copy holds no storage of its own but its location.
    func sharing(location: Location, blobID: ObjectID?) -> LoadedFlag {
        LoadedFlag(flag: flag, location: location, blobID: blobID, targetingDigest: targetingDigest, fingerprintDigest: fingerprintDigest)
    }

    private init(flag: Flag, location: Location, blobID: ObjectID?, targetingDigest: Digest256, fingerprintDigest: Digest256) {
        self.flag = flag
        self.location = location
        self.blobID = blobID
        self.targetingDigest = targetingDigest
        self.fingerprintDigest = fingerprintDigest
    }

    /// Wraps a validated flag and computes its fingerprints once.
    public convenience init(flag: Flag, file: String, blobID: ObjectID?) {
        self.init(flag: flag, location: .path(file), blobID: blobID)
    }

    /// Wraps a validated flag read from `location` and computes its fingerprints once.
    init(flag: Flag, location: Location, blobID: ObjectID?) {
        self.flag = flag
        self.location = location
        self.blobID = blobID
        (self.fingerprintDigest, self.targetingDigest) = Self.digests(of: flag)
    }

    /// The members of the normalised flag that decide how it evaluates.
    private static let targetingKeys: Set<String> = ["active", "baseState", "variants", "defaultVariant", "rules"]

    /// The fingerprint and the targeting fingerprint of a flag: the hashes (``Fingerprint``) of the canonical text of
    /// its whole normalised object and of the object of its targeting members. Each member is written once
    /// (``Flag/forEachCanonicalMember(_:)``, which does not build the normalised object) and hashed into both.
    private static func digests(of flag: Flag) -> (whole: Digest256, targeting: Digest256) {
        var whole = Fingerprint()
        var targeting = Fingerprint()
        whole.append("{")
        targeting.append("{")
        var firstMember = true
        var firstTargeting = true
        flag.forEachCanonicalMember { key, member in
            if !firstMember { whole.append(",") }
            whole.append(member)
            firstMember = false
            if targetingKeys.contains(key) {
                if !firstTargeting { targeting.append(",") }
                targeting.append(member)
                firstTargeting = false
            }
        }
        whole.append("}")
        targeting.append("}")
        return (whole.terminatedDigest, targeting.terminatedDigest)
    }
}
