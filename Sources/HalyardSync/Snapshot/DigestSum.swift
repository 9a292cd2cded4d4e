import Crypto

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
        var pair: [UInt8] = []
        pair.reserveCapacity(id.utf8.count + 1 + fingerprint.utf8.count)
        pair.append(contentsOf: id.utf8)
        pair.append(0)
        pair.append(contentsOf: fingerprint.utf8)
        self.limbs = [UInt64](unsafeUninitializedCapacity: Self.limbCount) { limbs, initialized in
            pair.withUnsafeBytes { pairBytes in
                for block in 0..<Self.blocks {
                    var hasher = SHA256()
                    withUnsafeBytes(of: UInt8(block)) { hasher.update(bufferPointer: $0) }
                    hasher.update(bufferPointer: pairBytes)
                    hasher.finalize().withUnsafeBytes { bytes in
                        for limb in 0..<4 {
                            var value: UInt64 = 0
                            for index in (limb * 8)..<(limb * 8 + 8) { value = value << 8 | UInt64(bytes[index]) }
                            limbs[block * 4 + limb] = value
                        }
                    }
                }
            }
            initialized = Self.limbCount
        }
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
