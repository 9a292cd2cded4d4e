//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// The edit of a flag file that makes an override permanent, as a minimal textual change and as a unified diff that
/// `git apply` applies (`GET /v1/overrides/{id}/patch`).
///
/// Only the values concerned change, in place: `"active"` (added after the opening brace when the file has none), and
/// for a variant `"defaultVariant"` and `"rules"`. Formatting, key order and every other byte stay as they are.
public struct FlagFilePatch: Sendable, Equatable {
    /// The file's path in the repository (`flags/production/new-checkout.json`).
    public let path: String
    /// The file's text at the served commit.
    public let original: String
    /// The file's text with the override written in.
    public let patched: String

    /// Writes `setting` into the text of a flag file; nil when the text is not a JSON object with the keys a variant
    /// setting needs (`defaultVariant`).
    public init?(path: String, text: String, setting: FlagOverride.Setting) {
        var editor = TopLevelEditor(text: text)
        guard editor.isObject else { return nil }
        switch setting {
        case .active(let value):
            editor.set("active", literal: value ? "true" : "false")
        case .variant(let name):
            editor.set("active", literal: "true")
            guard editor.replace("defaultVariant", with: JSONValue.string(name).jsonText) else { return nil }
            if editor.has("rules") { _ = editor.replace("rules", with: "[]") }
        }
        self.path = path
        self.original = text
        self.patched = editor.text
    }

    /// The unified diff from `original` to `patched`, with git's headers and one hunk of up to 3 lines of context.
    public var unifiedDiff: String {
        UnifiedDiff.make(path: path, old: original, new: patched)
    }
}

/// Edits the values of top-level keys of a JSON object's text in place.
private struct TopLevelEditor {
    private(set) var text: String

    init(text: String) { self.text = text }

    var isObject: Bool { Self.scan(Array(text.utf8)) != nil }

    func has(_ key: String) -> Bool { Self.scan(Array(text.utf8))?.values[key] != nil }

    /// Replaces the value of `key`; false when the object has no such key.
    mutating func replace(_ key: String, with value: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let range = Self.scan(bytes)?.values[key] else { return false }
        text = String(decoding: bytes[..<range.lowerBound] + Array(value.utf8) + bytes[range.upperBound...], as: UTF8.self)
        return true
    }

    /// Sets `key` to `literal`, in place, or as a new first member when the object has no such key.
    mutating func set(_ key: String, literal: String) {
        let bytes = Array(text.utf8)
        guard let layout = Self.scan(bytes) else { return }
        if let range = layout.values[key] {
            if String(decoding: bytes[range], as: UTF8.self) != literal { _ = replace(key, with: literal) }
            return
        }
        let member = "\"\(key)\": \(literal)"
        let insertion: String
        if let first = layout.firstMember {
            // Give the new member the first member's line and indentation when it has a line of its own.
            let lineStart = bytes[..<first].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }
            if let lineStart, lineStart > layout.open, bytes[lineStart..<first].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                let indent = String(decoding: bytes[lineStart..<first], as: UTF8.self)
                text = String(decoding: bytes[..<lineStart] + Array((indent + member + ",\n").utf8) + bytes[lineStart...], as: UTF8.self)
                return
            }
            insertion = member + ", "
            text = String(decoding: bytes[..<first] + Array(insertion.utf8) + bytes[first...], as: UTF8.self)
        } else {
            text = String(decoding: bytes[...layout.open] + Array(member.utf8) + bytes[(layout.open + 1)...], as: UTF8.self)
        }
    }

    /// The byte offset of the opening brace, of the first member's key, and the byte range of each top-level value.
    private struct Layout {
        var open: Int
        var firstMember: Int?
        var values: [String: Range<Int>]
    }

    private static func scan(_ bytes: [UInt8]) -> Layout? {
        var index = 0
        func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
        /// Skips a string starting at `index` (a quote); returns its raw contents.
        func skipString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            index += 1
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if bytes[index] == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: bytes[start..<(index - 1)], as: UTF8.self)
                }
                index += 1
            }
            return nil
        }
        /// Skips one JSON value; false when the text ends first.
        func skipValue() -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard skipString() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            default:
                while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                    index += 1
                }
                return true
            }
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        var layout = Layout(open: index, firstMember: nil, values: [:])
        index += 1
        while true {
            skipSpace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return layout }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            let keyStart = index
            guard let key = skipString() else { return nil }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            let valueStart = index
            guard skipValue() else { return nil }
            if layout.firstMember == nil { layout.firstMember = keyStart }
            layout.values[key] = valueStart..<index
        }
    }
}

/// A unified diff of one file with a single hunk: the lines between the common head and the common tail change.
enum UnifiedDiff {
    static func make(path: String, old: String, new: String, context: Int = 3) -> String {
        let oldLines = lines(old)
        let newLines = lines(new)
        var head = 0
        while head < oldLines.count, head < newLines.count, oldLines[head] == newLines[head] { head += 1 }
        var tail = 0
        while tail < oldLines.count - head, tail < newLines.count - head,
            oldLines[oldLines.count - 1 - tail] == newLines[newLines.count - 1 - tail]
        {
            tail += 1
        }
        var out = "diff --git a/\(path) b/\(path)\n--- a/\(path)\n+++ b/\(path)\n"
        if head == oldLines.count && head == newLines.count { return out }
        let start = max(0, head - context)
        let oldEnd = min(oldLines.count, oldLines.count - tail + context)
        let newEnd = min(newLines.count, newLines.count - tail + context)
        func range(_ start: Int, _ end: Int) -> String {
            let count = end - start
            return count == 0 ? "\(start),0" : "\(start + 1),\(count)"
        }
        out += "@@ -\(range(start, oldEnd)) +\(range(start, newEnd)) @@\n"
        func emit(_ prefix: String, _ line: Line) {
            out += prefix + line.text + "\n"
            if !line.newline { out += "\\ No newline at end of file\n" }
        }
        for line in oldLines[start..<head] { emit(" ", line) }
        for line in oldLines[head..<(oldLines.count - tail)] { emit("-", line) }
        for line in newLines[head..<(newLines.count - tail)] { emit("+", line) }
        for line in newLines[(newLines.count - tail)..<newEnd] { emit(" ", line) }
        return out
    }

    struct Line: Equatable {
        var text: String
        var newline: Bool
    }

    static func lines(_ text: String) -> [Line] {
        var result: [Line] = []
        var rest = Substring(text)
        // Scalars, not characters: "\r\n" is one character, and a CRLF file must still split into lines.
        while let end = rest.unicodeScalars.firstIndex(of: "\n") {
            result.append(Line(text: String(rest[..<end]), newline: true))
            rest = rest[rest.index(after: end)...]
        }
        if !rest.isEmpty { result.append(Line(text: String(rest), newline: false)) }
        return result
    }
}
