//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import FuzzSupport
import HalyardRules

/// Fuzzes ``JSONValue/parse(_:)``, the strict parser behind flag files and every request body.
///
/// For every input: the parser returns or throws, never crashes, hangs or grows memory. An error names a line and a
/// column inside the text. Accepted text is valid UTF-8, and its canonical form (``JSONValue/jsonText``) parses back
/// to an equal value whose canonical form is the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let value: JSONValue
    do {
        value = try JSONValue.parse(bytes)
    } catch {
        let lines = bytes.count { $0 == UInt8(ascii: "\n") } + 1
        invariant(error.line >= 1 && error.line <= lines, "error line \(error.line) outside 1...\(lines): \(error)")
        invariant(error.column >= 1 && error.column <= bytes.count + 1, "error column \(error.column) outside the text: \(error)")
        invariant(!error.message.isEmpty, "an error without a message")
        return 0
    }
    invariant(String(validating: bytes, as: UTF8.self) != nil, "accepted text that is not UTF-8")
    let text = value.jsonText
    let reparsed: JSONValue
    do {
        reparsed = try JSONValue.parse(text)
    } catch {
        invariant(false, "canonical text does not parse: \(error) in \(text)")
        return 0
    }
    invariant(reparsed == value, "canonical text parses to another value: \(text)")
    invariant(reparsed.jsonText == text, "canonical text is not stable: \(text) then \(reparsed.jsonText)")
    invariant(try! JSONValue.parse(Array(text.utf8)) == value, "the byte and string parsers disagree on \(text)")
    return 0
}
