//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Writes small JSON documents straight into bytes.
///
/// The hot routes (`/flags`, `/evaluate`, errors) answer with a handful of keys. Writing them by hand is several times
/// faster than going through `JSONEncoder`, and it keeps key order stable for people reading the answers.
///
/// ```swift
/// var json = JSONWriter()
/// json.objectStart()
/// json.key("error")
/// json.string("unknown environment \"qa\"")
/// json.objectEnd()
/// let body = json.byteBuffer
/// ```
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next value or key at the current nesting level needs a comma before it.
    private var needsComma = false

    init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    /// The document as a `ByteBuffer`, ready to be a response body.
    var byteBuffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    // MARK: - Structure

    mutating func objectStart() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func objectEnd() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func arrayStart() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func arrayEnd() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; the next call writes its value.
    mutating func key(_ key: String) {
        separate()
        writeEscaped(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: - Values

    mutating func string(_ value: String) {
        separate()
        writeEscaped(value)
        needsComma = true
    }

    mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
    }

    mutating func int(_ value: Int) {
        raw(String(value))
    }

    mutating func int(_ value: Int?) {
        if let value { int(value) } else { null() }
    }

    /// Writes a finite number in Swift's shortest round-trip form; infinities and NaN become `null`.
    mutating func double(_ value: Double) {
        guard value.isFinite else { return null() }
        if value == value.rounded(), abs(value) < 1e15 {
            raw(String(Int64(value)))
        } else {
            raw(String(value))
        }
    }

    mutating func null() {
        raw("null")
    }

    /// Writes an ISO 8601 UTC timestamp (`2026-11-21T12:00:00Z`), or `null`.
    mutating func date(_ value: Date?) {
        guard let value else { return null() }
        string(value.formatted(.iso8601))
    }

    /// Writes a string array.
    mutating func strings(_ values: [String]) {
        arrayStart()
        for value in values { string(value) }
        arrayEnd()
    }

    /// Writes a parsed JSON value in its canonical compact form.
    mutating func json(_ value: JSONValue) {
        raw(value.jsonText)
    }

    /// Writes text that is already valid JSON.
    mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// Writes bytes that are already valid JSON.
    mutating func raw(bytes text: [UInt8]) {
        separate()
        bytes.append(contentsOf: text)
        needsComma = true
    }

    // MARK: - Helpers

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func writeEscaped(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension JSONWriter {
    /// A one-key object, such as `{"error": "…"}` or `{"status": "…"}`.
    static func object(_ key: String, _ value: String) -> ByteBuffer {
        var json = JSONWriter(capacity: key.utf8.count + value.utf8.count + 16)
        json.objectStart()
        json.key(key)
        json.string(value)
        json.objectEnd()
        return json.byteBuffer
    }
}
