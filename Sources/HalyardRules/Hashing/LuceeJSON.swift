/// Serialises values as Lucee 5.3's `serializeJSON` does, for Semaphore-compatible `%` buckets (reference §5).
///
/// Compact output; strings escaped by Lucee's `StringUtil.escapeJS` with a UTF-8 encoder (control characters as
/// lower-case `\u00xx`, characters outside the BMP as escaped surrogate pairs, `/` only inside `</script`); numbers by
/// ``LuceeNumberFormat``. Lucee keeps nested structs in engine order, which cannot be reproduced, so nested objects
/// here are written with sorted keys: Semaphore users should keep their attributes flat.
enum LuceeJSON {
    /// Semaphore's `structToDeterministicString`: `[{"k1":v1},{"k2":v2},…]` with keys sorted by UTF-16 code units.
    static func deterministicString(_ members: [String: JSONValue], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (offset, key) in sortedKeys(members).enumerated() {
            if offset > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            write(members[key]!, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Keys in Java `String.compareTo` order: by UTF-16 code unit, case-sensitive (`"Z" < "_" < "a"`).
    static func sortedKeys(_ members: [String: JSONValue]) -> [String] {
        // For ASCII keys (the usual case) UTF-8 byte order is UTF-16 code unit order, and much cheaper to compare.
        if members.keys.allSatisfy({ key in key.utf8.allSatisfy { $0 < 0x80 } }) {
            return members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        return members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
    }

    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            out.append(contentsOf: LuceeNumberFormat.format(number.double).utf8)
        case .string(let string):
            writeString(string, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (offset, key) in sortedKeys(members).enumerated() {
                if offset > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Lucee's `StringUtil.escapeJS(string, '"', UTF-8 encoder)`, which works on UTF-16 code units.
    static func writeString(_ string: String, into out: inout [UInt8]) {
        // Fast path: printable ASCII with nothing Lucee escapes (no quote, backslash or slash) is written as it is.
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C && $0 != 0x2F }) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(UInt8(ascii: "\""))
        let units = Array(string.utf16)
        for (index, unit) in units.enumerated() {
            switch unit {
            case 0x5C: out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x22: out.append(contentsOf: #"\""#.utf8)
            case 0x2F where closesScriptTag(units, slashAt: index):
                out.append(contentsOf: #"\/"#.utf8)
            default:
                let isISOControl = unit <= 0x1F || (0x7F...0x9F).contains(unit)
                let isSurrogate = (0xD800...0xDFFF).contains(unit)
                if isISOControl || isSurrogate {
                    out.append(contentsOf: #"\u"#.utf8)
                    for shift in stride(from: 12, through: 0, by: -4) {
                        out.append(lowerHexDigits[Int((unit >> UInt16(shift)) & 0xF)])
                    }
                } else {
                    // A BMP scalar that UTF-8 can encode: written raw.
                    out.append(contentsOf: UTF8.encode(Unicode.Scalar(unit)!)!)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether the `/` at `index` is in `</script` followed by white space or `>`, which Lucee escapes as `\/`.
    private static func closesScriptTag(_ units: [UInt16], slashAt index: Int) -> Bool {
        let script: [UInt16] = Array("script".utf16)
        guard index > 0, units[index - 1] == 0x3C, index + 7 < units.count else { return false }
        for offset in 0..<6 where units[index + 1 + offset] != script[offset] { return false }
        return isJavaWhitespace(units[index + 7]) || units[index + 7] == 0x3E
    }

    /// Java's `Character.isWhitespace(char)`.
    private static func isJavaWhitespace(_ unit: UInt16) -> Bool {
        switch unit {
        case 0x09...0x0D, 0x1C...0x20, 0x1680, 0x2000...0x2006, 0x2008...0x200A, 0x2028, 0x2029, 0x205F, 0x3000: true
        default: false
        }
    }
}
