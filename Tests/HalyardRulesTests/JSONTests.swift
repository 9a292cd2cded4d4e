import HalyardRules
import Testing

/// The strict RFC 8259 parser and the canonical writer.
struct JSONTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null, "x\u00e9\n\ud83d\ude00"], "b": {}, "c": []} "#)
        #expect(value == ["a": [1, try JSONValue.parse("-2.5e3"), true, false, nil, "xé\n😀"], "b": [:], "c": []])
        #expect(value["a"]?.arrayValue?[1].numberValue == -2500)
    }

    @Test func parsesFromAnyCollectionOfBytes() throws {
        let text = #"{"k": [0.5, "v"]}"#
        #expect(try JSONValue.parse(Array(text.utf8)) == ["k": [0.5, "v"]])
        #expect(try JSONValue.parse(text.utf8) == ["k": [0.5, "v"]])
        #expect(try JSONValue.parse(ArraySlice(Array(("xx" + text).utf8)).dropFirst(2)) == ["k": [0.5, "v"]])
        // A leading byte order mark is skipped.
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }

    struct BadText: CustomTestStringConvertible, Sendable {
        let text: String
        let line: Int
        let column: Int
        let message: String
        var testDescription: String { text.debugDescription }
    }

    @Test(arguments: [
        BadText(text: "", line: 1, column: 1, message: "the text is empty; expected a JSON value"),
        BadText(text: "{\n  \"active\": true,\n}", line: 3, column: 1, message: "a trailing comma before '}' is not allowed"),
        BadText(text: "[1, 2,]", line: 1, column: 7, message: "a trailing comma before ']' is not allowed"),
        BadText(
            text: "{\n  \"a\": 1\n  \"b\": 2\n}", line: 3, column: 3, message: "expected ',' or '}' after an object member, found character '\"'"),
        BadText(text: "{\"a\" 1}", line: 1, column: 6, message: "expected ':' after the object key \"a\""),
        BadText(text: "{'a': 1}", line: 1, column: 2, message: "object keys must be enclosed in double quotes, not single quotes"),
        BadText(text: "// c\n{}", line: 1, column: 1, message: "comments are not allowed in JSON"),
        BadText(text: "[01]", line: 1, column: 2, message: "numbers cannot have leading zeros"),
        BadText(text: "[1.]", line: 1, column: 4, message: "expected a digit after the decimal point"),
        BadText(text: "[-]", line: 1, column: 3, message: "expected a digit after '-'"),
        BadText(text: "[1e]", line: 1, column: 4, message: "expected a digit in the exponent"),
        BadText(text: "[+1]", line: 1, column: 2, message: "a number cannot start with '+'"),
        BadText(text: "[NaN]", line: 1, column: 2, message: "NaN and Infinity are not JSON numbers"),
        BadText(text: "[1e999]", line: 1, column: 2, message: "the number is out of range"),
        BadText(text: "[tru]", line: 1, column: 2, message: "unexpected character 't'; expected a value (did you mean true?)"),
        BadText(text: "{\"a\": 1} x", line: 1, column: 10, message: "unexpected character 'x' after the JSON value"),
        BadText(text: "[\"a\tb\"]", line: 1, column: 4, message: "the control character U+0009 must be escaped in a string"),
        BadText(
            text: "[\"ab\ncd\"]", line: 1, column: 5,
            message: "a string cannot contain a line break; write \\n, or close the string opened at line 1, column 2"),
        BadText(text: "[\"\\x\"]", line: 1, column: 3, message: "invalid escape sequence '\\x'"),
        BadText(text: "[\"\\u12\"]", line: 1, column: 3, message: "\\u must be followed by four hexadecimal digits"),
        BadText(text: "[\"\\ud83d\"]", line: 1, column: 3, message: "unpaired surrogate \\uD83D; a high surrogate must be followed by a low one"),
        BadText(text: "[\"\\ude00\"]", line: 1, column: 3, message: "unpaired surrogate \\uDE00; a low surrogate must follow a high one"),
        BadText(text: "{\"a\": 1, \"a\": 2}", line: 1, column: 10, message: "duplicate object key \"a\""),
        BadText(text: "[\"abc", line: 1, column: 2, message: "the string opened here is not closed"),
        BadText(text: "{\n\"a\": [1,\n", line: 3, column: 1, message: "unexpected end of input; the array opened at line 2, column 6 is not closed"),
        BadText(text: "{\"é\": ü}", line: 1, column: 7, message: "unexpected character 'ü' (U+00FC); expected a value"),
    ])
    func reportsErrorsWithLineAndColumn(_ bad: BadText) {
        #expect(throws: JSONParseError(line: bad.line, column: bad.column, message: bad.message)) {
            try JSONValue.parse(bad.text)
        }
    }

    /// Objects are collected member by member and made into a dictionary once complete; up to 16 members duplicates
    /// are found by comparing keys, beyond that by hashing. Either way the first duplicate is reported where it is,
    /// before anything after it, and objects nested in objects keep their own members.
    @Test func findsDuplicateKeysInSmallAndBigObjectsAndKeepsNestedObjectsApart() throws {
        func object(_ count: Int, duplicateAt: Int? = nil, tail: String = "") -> String {
            var members = (0..<count).map { "\"k\($0)\": \($0)" }
            if let duplicateAt { members.append("\"k\(duplicateAt)\": -1") }
            return "{" + members.joined(separator: ", ") + tail + "}"
        }
        for count in [2, 15, 16, 17, 40, 1_000] {
            let text = object(count, duplicateAt: count / 2, tail: ", oops")
            let column = text.utf8.count - ", oops}".utf8.count - "\"k\(count / 2)\": -1".utf8.count + 1
            #expect(throws: JSONParseError(line: 1, column: column, message: "duplicate object key \"k\(count / 2)\"")) {
                try JSONValue.parse(text)
            }
            let value = try JSONValue.parse(object(count))
            #expect(value == .object(Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", JSONValue.number(JSONNumber(Double($0)))) })))
        }
        // The same key in an inner and an outer object is no duplicate, at any size on either side.
        let nested = try JSONValue.parse(#"{"a": {"a": 1, "b": {"a": 2}}, "b": [{"a": 3}], "c": "#  + object(20) + "}")
        guard case .object(let outer) = nested, case .object(let inner)? = outer["a"] else {
            Issue.record("not the nested objects: \(nested)")
            return
        }
        #expect(outer.keys.sorted() == ["a", "b", "c"])
        #expect(inner == ["a": 1, "b": ["a": 2]])
        #expect(throws: JSONParseError(line: 1, column: 25, message: "duplicate object key \"a\"")) {
            try JSONValue.parse(#"{"a": {"a": 1}, "b": 2, "a": 3}"#)
        }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array("{\n \"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        #expect(throws: JSONParseError(line: 2, column: 8, message: "invalid UTF-8 byte 0xC3; JSON text must be UTF-8")) {
            try JSONValue.parse(bytes)
        }
        // Overlong encodings and encoded surrogates are not UTF-8 either.
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC0, 0xAF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError(line: 1, column: 513, message: "arrays and objects are nested deeper than 512 levels")) {
            try JSONValue.parse(deep)
        }
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try JSONValue.parse(fine)
    }

    @Test func errorDescription() {
        let error = JSONParseError(line: 3, column: 14, message: "expected ',' or '}' after an object member")
        #expect(error.description == "line 3, column 14: expected ',' or '}' after an object member")
    }

    @Test func writesCompactSortedText() {
        let value: JSONValue = ["b": [1, 2.5, "x"], "a": ["z": nil, "y": false], "B": "upper", "é": 1]
        #expect(value.jsonText == #"{"B":"upper","a":{"y":false,"z":null},"b":[1,2.5,"x"],"é":1}"#)
        #expect(value.description == value.jsonText)
    }

    @Test(
        arguments: [
            (42.0, "42"), (-0.0, "0"), (1.5, "1.5"), (0.1, "0.1"), (-3.25, "-3.25"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (123456789012345680, "123456789012345680"), (0.000001, "0.000001"), (1e-7, "1e-7"), (1.5e-10, "1.5e-10"),
            (2.5e25, "2.5e+25"), (1.0 / 3.0, "0.3333333333333333"), (Double.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ] as [(Double, String)])
    func writesNumbersInShortestForm(_ number: Double, _ expected: String) throws {
        #expect(JSONValue.number(JSONNumber(number)).jsonText == expected)
        #expect(try JSONValue.parse(expected) == .number(JSONNumber(number)))
    }

    @Test func escapesStrings() throws {
        let text = "quote\" backslash\\ slash/ newline\n tab\t bell\u{07} del\u{7F} é 😀 \u{2028}"
        let json = JSONValue.string(text).jsonText
        #expect(json == #""quote\" backslash\\ slash/ newline\n tab\t bell\u0007 del"# + "\u{7F} é 😀 \u{2028}\"")
        #expect(try JSONValue.parse(json) == .string(text))
    }

    @Test func roundTripsThroughText() throws {
        let value: JSONValue = ["rules": [[["type": "%", "percentage": 12.5, "attribute": "userId"]]], "n": -0.001, "s": "\u{0}"]
        #expect(try JSONValue.parse(value.jsonText) == value)
    }

    @Test func accessors() {
        let value: JSONValue = ["s": "x", "n": 1, "b": true, "a": [], "o": [:], "z": nil]
        #expect(value["s"]?.stringValue == "x")
        #expect(value["n"]?.numberValue == 1)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?.arrayValue == [])
        #expect(value["o"]?.objectValue == [:])
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
        #expect(JSONValue.string("x")["s"] == nil)
    }
}
