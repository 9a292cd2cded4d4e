extension JSONValue {
    /// Parses JSON text strictly, as RFC 8259 defines it.
    ///
    /// Flag files are written by hand and reviewed in pull requests, so the parser accepts nothing that other tools
    /// might read differently: no comments, no trailing commas, no single quotes, no `NaN`, no lone surrogates and
    /// no duplicate object keys. A leading UTF-8 byte order mark is skipped, as RFC 8259 allows. Nesting deeper
    /// than 512 levels is rejected rather than risking the stack.
    ///
    /// ```swift
    /// let value = try JSONValue.parse(Array(#"{"active": true}"#.utf8))
    /// ```
    ///
    /// - Parameter bytes: UTF-8 encoded JSON text.
    /// - Returns: The value the text describes.
    /// - Throws: ``JSONParseError`` with the 1-based line and column of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        try parse(bytes, maximumDepth: JSONParser.maximumDepth)
    }

    /// Parses JSON text strictly, accepting at most `maximumDepth` levels of nested arrays and objects.
    ///
    /// Request bodies use a lower limit than flag files (DESIGN §13: 64), so that a client cannot make the server
    /// recurse deeply or build deep values that every later step walks.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 encoded JSON text.
    ///   - maximumDepth: The deepest nesting accepted; `[1]` is depth 1. Capped at 512.
    /// - Throws: ``JSONParseError`` with the 1-based line and column of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>, maximumDepth: Int) throws(JSONParseError) -> JSONValue {
        let depth = min(max(maximumDepth, 0), JSONParser.maximumDepth)
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            JSONParser.parse(buffer, maximumDepth: depth)
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { JSONParser.parse($0, maximumDepth: depth) }.get()
    }

    /// Parses JSON text held in a string, with the same strict rules as the byte form.
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        // A Swift string is always valid UTF-8: only the byte order mark needs looking at.
        var string = string
        return try string.withUTF8 { JSONParser.parse(validUTF8: $0, from: UTF8Validation.byteOrderMarkLength($0)) }.get()
    }
}

/// A recursive-descent parser over a contiguous UTF-8 buffer.
struct JSONParser {
    /// The deepest nesting of arrays and objects that the parser accepts.
    static let maximumDepth = 512

    /// A parse failure at a byte offset; turned into a line and column only when it is reported.
    struct Failure: Error {
        let offset: Int
        let message: String
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int
    private var depth = 0
    /// The members of the objects being parsed, innermost last, until each object is complete: a dictionary is then
    /// made at its final size. Growing it member by member rehashed every key at each doubling, a fifth of parsing.
    private var pendingMembers: [(key: String, value: JSONValue)] = []
    /// Up to this many members, duplicates are found by comparing keys; a bigger object moves to a dictionary at once,
    /// so that a hostile object with many keys costs linear time, not quadratic.
    private static let smallObject = 16
    private let depthLimit: Int
    private var scratch: [UInt8] = []

    private init(bytes: UnsafeBufferPointer<UInt8>, start: Int, depthLimit: Int) {
        self.bytes = bytes
        self.index = start
        self.depthLimit = depthLimit
    }

    /// Checks that the bytes are UTF-8, then parses them, refusing nesting deeper than `maximumDepth`.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = maximumDepth) -> Result<JSONValue, JSONParseError> {
        let start = UTF8Validation.byteOrderMarkLength(bytes)
        if let invalid = UTF8Validation.firstInvalidOffset(bytes, from: start) {
            let position = TextPosition(of: invalid, in: bytes, from: start)
            let message = "invalid UTF-8 byte 0x\(hexByte(bytes[invalid])); JSON text must be UTF-8"
            return .failure(JSONParseError(line: position.line, column: position.column, message: message))
        }
        return parse(validUTF8: bytes, from: start, maximumDepth: maximumDepth)
    }

    /// Parses bytes that the caller has already checked with ``UTF8Validation``, from `start` (past any byte order
    /// mark), so that a caller with its own message for bad UTF-8 does not make the parser check the bytes again.
    static func parse(
        validUTF8 bytes: UnsafeBufferPointer<UInt8>, from start: Int, maximumDepth: Int = maximumDepth
    ) -> Result<JSONValue, JSONParseError> {
        var parser = JSONParser(bytes: bytes, start: start, depthLimit: maximumDepth)
        do throws(Failure) {
            parser.skipWhitespace()
            guard parser.index < bytes.count else {
                throw Failure(offset: parser.index, message: "the text is empty; expected a JSON value")
            }
            let value = try parser.parseValue()
            parser.skipWhitespace()
            if parser.index < bytes.count {
                throw Failure(offset: parser.index, message: "unexpected \(parser.describeCurrent()) after the JSON value")
            }
            return .success(value)
        } catch {
            let position = TextPosition(of: error.offset, in: bytes, from: start)
            return .failure(JSONParseError(line: position.line, column: position.column, message: error.message))
        }
    }

    // MARK: - Values

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw Failure(offset: index, message: "unexpected end of input; expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "'"):
            throw Failure(offset: index, message: "strings must be enclosed in double quotes, not single quotes")
        case UInt8(ascii: "/"):
            throw Failure(offset: index, message: "comments are not allowed in JSON")
        case UInt8(ascii: "+"):
            throw Failure(offset: index, message: "a number cannot start with '+'")
        case UInt8(ascii: "."):
            throw Failure(offset: index, message: "a number must start with a digit, not '.'")
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw Failure(offset: index, message: "NaN and Infinity are not JSON numbers")
        default:
            throw Failure(offset: index, message: "unexpected \(describeCurrent()); expected a value")
        }
    }

    private mutating func parseLiteral(_ word: StaticString, _ value: JSONValue) throws(Failure) -> JSONValue {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected -> Bool in
            guard start + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[start + offset] != expected[offset] { return false }
            return true
        }
        guard matches else {
            throw Failure(offset: start, message: "unexpected \(describeCurrent()); expected a value (did you mean \(word)?)")
        }
        index += count
        return value
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        let open = index
        try enterContainer(at: open)
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object([:])
        }
        let first = pendingMembers.count
        var large: [String: JSONValue] = [:]
        var isLarge = false
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(offset: index, message: "unexpected end of input; the object opened at \(positionText(open)) is not closed")
            }
            let byte = bytes[index]
            if byte != UInt8(ascii: "\"") {
                if byte == UInt8(ascii: "}") {
                    throw Failure(offset: index, message: "a trailing comma before '}' is not allowed")
                }
                if byte == UInt8(ascii: "'") {
                    throw Failure(offset: index, message: "object keys must be enclosed in double quotes, not single quotes")
                }
                if byte == UInt8(ascii: "/") {
                    throw Failure(offset: index, message: "comments are not allowed in JSON")
                }
                throw Failure(offset: index, message: "unexpected \(describeCurrent()); expected an object key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw Failure(offset: index, message: "expected ':' after the object key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            if isLarge {
                if large.updateValue(value, forKey: key) != nil {
                    throw Failure(offset: keyOffset, message: "duplicate object key \"\(key)\"")
                }
            } else {
                for position in first..<pendingMembers.count where pendingMembers[position].key == key {
                    throw Failure(offset: keyOffset, message: "duplicate object key \"\(key)\"")
                }
                pendingMembers.append((key, value))
                if pendingMembers.count - first > Self.smallObject {
                    large = takeMembers(from: first, minimumCapacity: 4 * Self.smallObject)
                    isLarge = true
                }
            }
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(offset: index, message: "unexpected end of input; the object opened at \(positionText(open)) is not closed")
            }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(isLarge ? large : takeMembers(from: first, minimumCapacity: 0))
            default:
                throw Failure(offset: index, message: "expected ',' or '}' after an object member, found \(describeCurrent())")
            }
        }
    }

    /// The members pending since `first` as a dictionary (their keys are distinct), removed from the pending ones.
    private mutating func takeMembers(from first: Int, minimumCapacity: Int) -> [String: JSONValue] {
        var members = [String: JSONValue](minimumCapacity: max(minimumCapacity, pendingMembers.count - first))
        for position in first..<pendingMembers.count {
            members[pendingMembers[position].key] = pendingMembers[position].value
        }
        pendingMembers.removeSubrange(first...)
        return members
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        let open = index
        try enterContainer(at: open)
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(offset: index, message: "unexpected end of input; the array opened at \(positionText(open)) is not closed")
            }
            if bytes[index] == UInt8(ascii: "]") {
                throw Failure(offset: index, message: "a trailing comma before ']' is not allowed")
            }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else {
                throw Failure(offset: index, message: "unexpected end of input; the array opened at \(positionText(open)) is not closed")
            }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw Failure(offset: index, message: "expected ',' or ']' after an array element, found \(describeCurrent())")
            }
        }
    }

    private mutating func enterContainer(at offset: Int) throws(Failure) {
        depth += 1
        if depth > depthLimit {
            throw Failure(offset: offset, message: "arrays and objects are nested deeper than \(depthLimit) levels")
        }
    }

    // MARK: - Strings

    private mutating func parseString() throws(Failure) -> String {
        let open = index
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    throw Failure(
                        offset: index,
                        message: "a string cannot contain a line break; write \\n, or close the string opened at \(positionText(open))"
                    )
                }
                throw Failure(offset: index, message: "the control character U+\(hex4(UInt16(byte))) must be escaped in a string")
            default:
                scratch.append(byte)
                index += 1
            }
        }
        throw Failure(offset: open, message: "the string opened here is not closed")
    }

    private mutating func parseEscape() throws(Failure) {
        let escapeOffset = index
        index += 1
        guard index < bytes.count else { throw Failure(offset: escapeOffset, message: "unexpected end of input in an escape sequence") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let first = try parseHex4(escapeOffset: escapeOffset)
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw Failure(
                        offset: escapeOffset,
                        message: "unpaired surrogate \\u\(hex4(first)); a high surrogate must be followed by a low one"
                    )
                }
                let lowOffset = index
                index += 2
                let second = try parseHex4(escapeOffset: lowOffset)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw Failure(
                        offset: escapeOffset,
                        message: "unpaired surrogate \\u\(hex4(first)); a high surrogate must be followed by a low one"
                    )
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw Failure(offset: escapeOffset, message: "unpaired surrogate \\u\(hex4(first)); a low surrogate must follow a high one")
            }
            // Every value here is a valid scalar: surrogates were handled above.
            let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
            scratch.append(contentsOf: UTF8.encode(scalar)!)
        default:
            throw Failure(offset: escapeOffset, message: "invalid escape sequence '\\\(describe(byte: byte, quoted: false))'")
        }
    }

    private mutating func parseHex4(escapeOffset: Int) throws(Failure) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = hexDigitValue(bytes[index]) else {
                throw Failure(offset: escapeOffset, message: "\\u must be followed by four hexadecimal digits")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(Failure) -> JSONNumber {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw Failure(offset: index, message: "expected a digit after '-'")
            }
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw Failure(offset: start, message: "numbers cannot have leading zeros")
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw Failure(offset: index, message: "expected a digit after the decimal point")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw Failure(offset: index, message: "expected a digit in the exponent")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if isInteger, text.count <= 15 {
            var negative = false
            var magnitude: Int64 = 0
            for byte in text {
                if byte == UInt8(ascii: "-") { negative = true } else { magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0")) }
            }
            if negative, magnitude == 0 { return JSONNumber(-0.0, text: text) }
            return JSONNumber(negative ? -Double(magnitude) : Double(magnitude))
        }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw Failure(offset: start, message: "the number is out of range")
        }
        return JSONNumber(value, text: text)
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private func positionText(_ offset: Int) -> String {
        let position = TextPosition(of: offset, in: bytes, from: UTF8Validation.byteOrderMarkLength(bytes))
        return "line \(position.line), column \(position.column)"
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        return describe(byte: bytes[index], quoted: true)
    }

    private func describe(byte: UInt8, quoted: Bool) -> String {
        if byte >= 0x21, byte < 0x7F {
            let character = String(UnicodeScalar(byte))
            return quoted ? "character '\(character)'" : character
        }
        if byte < 0x80 { return "character U+\(hex4(UInt16(byte)))" }
        // A multi-byte scalar: decode it for the message.
        var iterator = UnsafeBufferPointer(rebasing: bytes[index...]).makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return quoted ? "character '\(scalar)' (U+\(hex4(UInt16(truncatingIfNeeded: scalar.value))))" : String(scalar)
        }
        return "byte 0x\(hexByte(byte))"
    }
}

@inline(__always)
private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

@inline(__always)
func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Four upper-case hexadecimal digits, for messages such as `U+000A`.
func hex4(_ value: UInt16) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var text = ""
    for shift in stride(from: 12, through: 0, by: -4) {
        text.unicodeScalars.append(UnicodeScalar(digits[Int((value >> UInt16(shift)) & 0xF)]))
    }
    return text
}

/// Two upper-case hexadecimal digits.
func hexByte(_ value: UInt8) -> String { String(hex4(UInt16(value)).dropFirst(2)) }

/// A 1-based line and column (in Unicode scalars) of a byte offset in UTF-8 text.
struct TextPosition {
    let line: Int
    let column: Int

    init(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) {
        var line = 1
        var column = 1
        var index = start
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        self.line = line
        self.column = column
    }
}
