/// Formats numbers exactly as Lucee 5.3's `Caster.toString(double)` does, for Semaphore-compatible `%` buckets.
///
/// Lucee writes a number that is integral, or within 1e-12 above or below its truncation to a `long`, as that
/// `long` (`42.0` → `42`). Everything else goes through `DecimalFormat("#.############")` (US locale): at most twelve
/// fraction digits, `HALF_EVEN` rounding of the shortest representation with exact ties decided by the binary value,
/// at least one integer digit, no grouping and no exponent (`0.1`, `0.333333333333`, `0.00000025`).
enum LuceeNumberFormat {
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-∞" : "∞") }
        let truncated = javaLong(value)
        let asDouble = Double(truncated)
        if asDouble == value { return String(truncated) }
        if value > asDouble, value - asDouble < 0.000000000001 { return String(truncated) }
        if asDouble > value, asDouble - value < 0.000000000001 { return String(truncated) }
        return decimalFormat(value, maximumFractionDigits: 12)
    }

    /// Java's `(long) d`: truncation toward zero, saturating at the `long` range.
    static func javaLong(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        if value >= 9_223_372_036_854_775_807.0 { return .max }
        if value <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value.rounded(.towardZero))
    }

    /// `java.text.DecimalFormat` with pattern `#.###…` (`maximumFractionDigits` hashes), `HALF_EVEN`.
    static func decimalFormat(_ value: Double, maximumFractionDigits: Int) -> String {
        let decimal = DecimalDigits(value)
        var digits = decimal.digits
        var exponent = decimal.exponent
        let keep = exponent + maximumFractionDigits
        if keep < digits.count {
            var roundUp: Bool
            if keep < 0 {
                roundUp = false
            } else {
                let next = digits[keep]
                if next > UInt8(ascii: "5") {
                    roundUp = true
                } else if next < UInt8(ascii: "5") {
                    roundUp = false
                } else if keep + 1 < digits.count {
                    roundUp = true  // more non-zero digits follow the 5
                } else {
                    // The shortest digits end in the 5: decide by the exact binary value.
                    switch compareExactly(value.magnitude, digits: digits, exponent: exponent) {
                    case 1: roundUp = true
                    case -1: roundUp = false
                    default: roundUp = keep > 0 && (digits[keep - 1] - UInt8(ascii: "0")) % 2 == 1
                    }
                }
            }
            digits.removeSubrange(max(keep, 0)...)
            if roundUp {
                var index = digits.count - 1
                while index >= 0, digits[index] == UInt8(ascii: "9") {
                    digits[index] = UInt8(ascii: "0")
                    index -= 1
                }
                if index >= 0 {
                    digits[index] += 1
                } else {
                    digits.insert(UInt8(ascii: "1"), at: 0)
                    exponent += 1
                }
                if keep <= 0 {
                    // Everything was cut: the result is one unit in the last kept place.
                    digits = [UInt8(ascii: "1")]
                    exponent = -maximumFractionDigits + 1
                }
            }
            while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        }
        if digits.isEmpty { return "0" }
        var out: [UInt8] = []
        if decimal.isNegative { out.append(UInt8(ascii: "-")) }
        if exponent > 0 {
            out.append(contentsOf: digits.prefix(exponent))
            if exponent > digits.count { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: exponent - digits.count)) }
            if digits.count > exponent {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[exponent...])
            }
        } else {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -exponent))
            out.append(contentsOf: digits)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares a positive finite double with the decimal `0.digits × 10^exponent` exactly: -1, 0 or 1.
    static func compareExactly(_ value: Double, digits: [UInt8], exponent: Int) -> Int {
        var significand: UInt64
        var binaryExponent: Int
        if value.exponentBitPattern == 0 {
            significand = value.significandBitPattern
            binaryExponent = -1074
        } else {
            significand = value.significandBitPattern | (1 << 52)
            binaryExponent = Int(value.exponentBitPattern) - 1075
        }
        var decimalSignificand: UInt64 = 0
        for digit in digits { decimalSignificand = decimalSignificand * 10 + UInt64(digit - UInt8(ascii: "0")) }
        let decimalExponent = exponent - digits.count
        var lhs = BigUInt(significand)
        var rhs = BigUInt(decimalSignificand)
        if binaryExponent >= 0 { lhs.shiftLeft(binaryExponent) } else { rhs.shiftLeft(-binaryExponent) }
        if decimalExponent >= 0 {
            for _ in 0..<decimalExponent { rhs.multiply(by: 10) }
        } else {
            for _ in 0..<(-decimalExponent) { lhs.multiply(by: 10) }
        }
        return BigUInt.compare(lhs, rhs)
    }
}

/// Just enough of an arbitrary-precision unsigned integer to compare a double with a decimal exactly.
struct BigUInt {
    /// Little-endian 32-bit limbs.
    private(set) var limbs: [UInt32]

    init(_ value: UInt64) {
        limbs = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        normalize()
    }

    mutating func multiply(by factor: UInt32) {
        var carry: UInt64 = 0
        for index in limbs.indices {
            let product = UInt64(limbs[index]) * UInt64(factor) + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
    }

    mutating func shiftLeft(_ bits: Int) {
        guard bits > 0, !limbs.isEmpty else { return }
        let whole = bits / 32
        let part = UInt32(bits % 32)
        if part > 0 {
            var carry: UInt32 = 0
            for index in limbs.indices {
                let limb = limbs[index]
                limbs[index] = limb << part | carry
                carry = limb >> (32 - part)
            }
            if carry > 0 { limbs.append(carry) }
        }
        limbs.insert(contentsOf: repeatElement(0, count: whole), at: 0)
    }

    private mutating func normalize() {
        while let last = limbs.last, last == 0 { limbs.removeLast() }
    }

    static func compare(_ lhs: BigUInt, _ rhs: BigUInt) -> Int {
        if lhs.limbs.count != rhs.limbs.count { return lhs.limbs.count < rhs.limbs.count ? -1 : 1 }
        for index in lhs.limbs.indices.reversed() where lhs.limbs[index] != rhs.limbs[index] {
            return lhs.limbs[index] < rhs.limbs[index] ? -1 : 1
        }
        return 0
    }
}
