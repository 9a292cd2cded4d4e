/// Writes compact JSON text straight into UTF-8 bytes: the one JSON writer of Halyard.
///
/// Every JSON that Halyard emits goes through this type: the canonical text of a ``JSONValue`` (``JSONValue/jsonText``,
/// which fingerprints and ETags hash), the HTTP answers (the server wraps the bytes in a `ByteBuffer`), the webhook
/// bodies and the CLI's `--format json`. Writing by hand keeps the key order each document promises and is several
/// times faster than `JSONEncoder` on the hot routes; having one writer keeps one escaping table
/// (``appendQuoted(_:to:)``) and one number format (``appendNumber(_:to:)``).
///
/// The writer tracks commas itself: call ``key(_:)`` before each member's value, and the value methods in order.
///
/// ```swift
/// var json = JSONWriter()
/// json.objectStart()
/// json.key("error")
/// json.string("unknown environment \"qa\"")
/// json.objectEnd()
/// json.text   // {"error":"unknown environment \"qa\""}
/// ```
public struct JSONWriter: Sendable {
    /// The UTF-8 bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value or key at the current nesting level needs a comma before it.
    private var needsComma = false

    /// Creates an empty writer that reserves room for `capacity` bytes.
    public init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: - Structure

    /// Opens an object: `{`.
    public mutating func objectStart() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes the innermost object: `}`.
    public mutating func objectEnd() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array: `[`.
    public mutating func arrayStart() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Closes the innermost array: `]`.
    public mutating func arrayEnd() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; the next call writes its value.
    public mutating func key(_ key: String) {
        separate()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: - Values

    /// Writes a string, escaped as ``appendQuoted(_:to:)`` describes.
    public mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    /// Writes a string, or `null`.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    /// Writes an integer.
    public mutating func int(_ value: Int) {
        separate()
        Self.appendInteger(Int64(value), to: &bytes)
        needsComma = true
    }

    /// Writes an integer, or `null`.
    public mutating func int(_ value: Int?) {
        if let value { int(value) } else { null() }
    }

    /// Writes a number in its shortest form (``appendNumber(_:to:)``); infinities and NaN become `null`.
    public mutating func double(_ value: Double) {
        separate()
        Self.appendNumber(value, to: &bytes)
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// Writes an array of strings.
    public mutating func strings(_ values: [String]) {
        arrayStart()
        for value in values { string(value) }
        arrayEnd()
    }

    /// Writes a parsed JSON value in its canonical compact form (``JSONValue/jsonText``).
    public mutating func json(_ value: JSONValue) {
        separate()
        Self.appendCanonical(value, to: &bytes)
        needsComma = true
    }

    /// Writes text that is already valid JSON.
    public mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// Writes bytes that are already valid JSON.
    public mutating func raw(bytes text: [UInt8]) {
        separate()
        bytes.append(contentsOf: text)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}

// MARK: - Appending into bytes

extension JSONWriter {
    /// Appends a string as a JSON string literal, escaped as RFC 8259 §7 requires and no further.
    ///
    /// `"` and `\` are escaped with a backslash; the control characters U+0000 to U+001F are escaped too, with the
    /// short forms `\b`, `\f`, `\n`, `\r` and `\t` where JSON has one and as `\u00xx` (lower-case hex) otherwise.
    /// Everything else, `/`, DEL and all non-ASCII text included, is copied as its UTF-8 bytes, so equal strings
    /// always give equal text.
    ///
    /// ```swift
    /// var out: [UInt8] = []
    /// JSONWriter.appendQuoted("tab\there \u{1}", to: &out)   // "tab\there \u0001"
    /// ```
    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            appendEscaped(utf8, to: &bytes)
        }
        if copied == nil {
            for byte in string.utf8 {
                if needsEscape(byte) { appendEscape(byte, to: &bytes) } else { bytes.append(byte) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a number in its shortest round-tripping form, as JavaScript's `Number.prototype.toString` lays it
    /// out: `42`, `1.5`, `0.000001`, `1e+21`, `1e-7`. Infinities and NaN, which JSON cannot hold, become `null`.
    public static func appendNumber(_ value: Double, to bytes: inout [UInt8]) {
        JSONNumberFormatting.append(value, to: &bytes)
    }

    /// Appends the canonical compact text of a value: no whitespace, object keys sorted by their UTF-8 bytes.
    public static func appendCanonical(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null:
            bytes.append(contentsOf: "null".utf8)
        case .bool(let flag):
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            number.append(to: &bytes)
        case .string(let string):
            appendQuoted(string, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                appendCanonical(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (offset, key) in keys.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                appendQuoted(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                appendCanonical(members[key]!, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends the decimal digits of an integer.
    static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    /// Copies runs of bytes that need no escape in one go, and escapes the others.
    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        for index in 0..<utf8.count where needsEscape(utf8[index]) {
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            appendEscape(utf8[index], to: &bytes)
            runStart = index + 1
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static func appendEscape(_ byte: UInt8, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: "u00".utf8)
            bytes.append(lowerHexDigits[Int(byte >> 4)])
            bytes.append(lowerHexDigits[Int(byte & 0xF)])
        }
    }
}

/// `0123456789abcdef` as ASCII bytes.
let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
