/// Recognises strings that spell a number, such as `"42"`, `"-1.5"`, `"1e3"` or `" 42 "`.
///
/// DESIGN §2 compares a numeric string with a number (or another numeric string) as numbers. A numeric string is an
/// optional sign, digits with at most one decimal point that is not last (`"1."` is not numeric, `".5"` is), and an
/// optional exponent, with surrounding ASCII white space allowed. Hexadecimal, `NaN` and `Infinity` are not numbers.
enum NumericText {
    static func value(of text: String) -> Double? {
        var text = text
        return text.withUTF8 { value(of: $0) }
    }

    static func value(of bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { return nil }
        var index = start
        var negative = false
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var integerDigits = 0
        var fractionDigits = 0
        var simple: Int64 = 0
        while index < end, isDigit(bytes[index]) {
            if integerDigits < 18 { simple = simple * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
            integerDigits += 1
            index += 1
        }
        var isSimple = integerDigits <= 15
        if index < end, bytes[index] == UInt8(ascii: ".") {
            isSimple = false
            index += 1
            while index < end, isDigit(bytes[index]) {
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0 else { return nil }
        }
        guard integerDigits + fractionDigits > 0 else { return nil }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isSimple = false
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            var exponentDigits = 0
            while index < end, isDigit(bytes[index]) {
                exponentDigits += 1
                index += 1
            }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == end else { return nil }
        if isSimple {
            let magnitude = Double(simple)
            return negative ? -magnitude : magnitude
        }
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        guard let value = Double(String(decoding: slice, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }
}
