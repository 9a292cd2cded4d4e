//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The small text codecs the console needs: cookies, form bodies, URL path segments, dates and the inline Markdown of
/// the describers.
enum ConsoleText {
    /// The cookies of a `Cookie` header value (`a=1; b=2`); later duplicates are ignored.
    static func cookies(_ header: String?) -> [String: String] {
        guard let header else { return [:] }
        var cookies: [String: String] = [:]
        for pair in header.split(separator: ";") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = trimmed(pair[..<equals])
            let value = trimmed(pair[pair.index(after: equals)...])
            if cookies[name] == nil { cookies[name] = value }
        }
        return cookies
    }

    /// The text without leading and trailing spaces and tabs.
    static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// The fields of an `application/x-www-form-urlencoded` body; later duplicates are ignored.
    static func formFields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = formDecode(parts[0])
            let value = parts.count > 1 ? formDecode(parts[1]) : ""
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }

    /// Decodes `+` and `%XX` escapes; an invalid escape is kept as written, invalid UTF-8 is replaced.
    static func formDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]),
                    let low = hexValue(iterator[iterator.startIndex + 1])
                {
                    bytes.append(high << 4 | low)
                    iterator = iterator.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A value percent-encoded for a URL path segment or query value: only unreserved characters stay as they are.
    static func urlEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// A date for people, in UTC: `2026-11-30 06:42:19 UTC`.
    static func date(_ date: Date?) -> String? {
        guard let date else { return nil }
        return date.formatted(.iso8601).replacing("T", with: " ").replacing("Z", with: " UTC")
    }

    /// A date in ISO 8601, for `<time datetime>`.
    static func isoDate(_ date: Date) -> String { date.formatted(.iso8601) }

    /// The short form of a commit id.
    static func short(_ commit: String) -> String { String(commit.prefix(7)) }

    /// A describer's note cut into segments for the `inline` partial: `` `code` `` and `**bold**` become their own
    /// segments, everything else is text. The template escapes every segment; nothing here is HTML.
    static func segments(_ note: String) -> [String: Any] {
        var segments: [[String: Any]] = []
        var text = ""
        var strong = false
        func flush(code: Bool = false) {
            if !text.isEmpty { segments.append(["text": text, "code": code, "strong": strong && !code]) }
            text = ""
        }
        var index = note.startIndex
        while index < note.endIndex {
            let character = note[index]
            if character == "`", let close = note[note.index(after: index)...].firstIndex(of: "`") {
                flush()
                text = String(note[note.index(after: index)..<close])
                flush(code: true)
                index = note.index(after: close)
            } else if note[index...].hasPrefix("**") {
                flush()
                strong.toggle()
                index = note.index(index, offsetBy: 2)
            } else {
                text.append(character)
                index = note.index(after: index)
            }
        }
        flush()
        return ["segments": segments]
    }
}
