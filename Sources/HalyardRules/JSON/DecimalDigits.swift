/// The shortest decimal digits that round-trip a `Double`, as a digit string and a decimal exponent.
///
/// The value is `0.d₁d₂…dₖ × 10^exponent` (sign aside). Swift's own `description` already finds the shortest
/// round-tripping digits; this type only takes its text apart so that the JSON writer and the Lucee formatter can lay
/// the digits out the way each needs.
struct DecimalDigits {
    /// ASCII digits, without leading or trailing zeros; empty for zero.
    var digits: [UInt8]
    /// The position of the decimal point relative to the first digit.
    var exponent: Int
    /// Whether the value is negative (negative zero counts as zero).
    var isNegative: Bool

    /// Takes apart a finite `Double`.
    init(_ value: Double) {
        precondition(value.isFinite, "only finite numbers have decimal digits")
        isNegative = value < 0
        var digits: [UInt8] = []
        var pointPosition = 0
        var sawPoint = false
        var exponentPart = 0
        var exponentSign = 1
        var inExponent = false
        for byte in value.magnitude.description.utf8 {
            if inExponent {
                switch byte {
                case UInt8(ascii: "-"): exponentSign = -1
                case UInt8(ascii: "+"): break
                default: exponentPart = exponentPart * 10 + Int(byte - UInt8(ascii: "0"))
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "."): sawPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            default:
                digits.append(byte)
                if !sawPoint { pointPosition += 1 }
            }
        }
        pointPosition += exponentSign * exponentPart
        var leading = 0
        while leading < digits.count, digits[leading] == UInt8(ascii: "0") { leading += 1 }
        digits.removeFirst(leading)
        pointPosition -= leading
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        if digits.isEmpty {
            pointPosition = 0
            isNegative = false
        }
        self.digits = digits
        self.exponent = pointPosition
    }
}

enum JSONNumberFormatting {
    /// The shortest text of a number, laid out as JavaScript's `Number.prototype.toString` does.
    ///
    /// Integers print without a fraction (`42`, not `42.0`), fractions in plain decimal notation between 1e-7 and
    /// 1e21 (`1.5`, `0.000001`), and exponent notation outside that range (`1e+21`, `1e-7`). This is the form sticky
    /// bucketing hashes, so it must never change.
    static func shortest(_ value: Double) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``shortest(_:)``'s text as UTF-8 bytes, without building a string; `null` for infinities and NaN.
    static func append(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else { return out.append(contentsOf: "null".utf8) }
        if value == value.rounded(.towardZero), value.magnitude < 1e15 {
            return JSONWriter.appendInteger(Int64(value), to: &out)
        }
        let decimal = DecimalDigits(value)
        if decimal.digits.isEmpty { return out.append(UInt8(ascii: "0")) }
        if decimal.isNegative { out.append(UInt8(ascii: "-")) }
        let digits = decimal.digits
        let k = digits.count
        let n = decimal.exponent
        if k <= n, n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n, n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n, n <= 0 {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            let e = n - 1
            out.append(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            JSONWriter.appendInteger(Int64(e.magnitude), to: &out)
        }
    }
}
