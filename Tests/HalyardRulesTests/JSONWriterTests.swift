import HalyardRules
import Testing

/// The one JSON writer: its escaping table (RFC 8259 §7), its numbers and its commas.
struct JSONWriterTests {
    /// What each of U+0000…U+001F becomes, written out by hand rather than computed.
    static let controlEscapes: [String] = [
        #"\u0000"#, #"\u0001"#, #"\u0002"#, #"\u0003"#, #"\u0004"#, #"\u0005"#, #"\u0006"#, #"\u0007"#,
        #"\b"#, #"\t"#, #"\n"#, #"\u000b"#, #"\f"#, #"\r"#, #"\u000e"#, #"\u000f"#,
        #"\u0010"#, #"\u0011"#, #"\u0012"#, #"\u0013"#, #"\u0014"#, #"\u0015"#, #"\u0016"#, #"\u0017"#,
        #"\u0018"#, #"\u0019"#, #"\u001a"#, #"\u001b"#, #"\u001c"#, #"\u001d"#, #"\u001e"#, #"\u001f"#,
    ]

    /// The three ways to write a string give the same bytes.
    static func quoted(_ string: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendQuoted(string, to: &bytes)
        var writer = JSONWriter()
        writer.string(string)
        #expect(writer.bytes == bytes)
        #expect(JSONValue.string(string).jsonText.utf8.elementsEqual(bytes))
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: 0..<0x20)
    func escapesEveryControlCharacter(_ value: Int) throws {
        let character = String(Character(Unicode.Scalar(UInt8(value))))
        let expected = Self.controlEscapes[value]
        #expect(Self.quoted(character) == "\"" + expected + "\"")
        #expect(Self.quoted("a" + character + "b") == "\"a" + expected + "b\"")
        #expect(try JSONValue.parse(Self.quoted(character)) == .string(character))
    }

    @Test func usesTheShortFormsForBackspaceAndFormFeed() {
        #expect(Self.quoted("\u{8}\u{C}") == #""\b\f""#)
    }

    @Test func escapesQuotesAndBackslashesOnly() {
        #expect(Self.quoted(#"say "hi" \ C:\dir"#) == #""say \"hi\" \\ C:\\dir""#)
        // `/`, DEL and the JavaScript line separators need no escape in JSON and get none.
        #expect(Self.quoted("a/b \u{7F} \u{2028}\u{2029}") == "\"a/b \u{7F} \u{2028}\u{2029}\"")
    }

    @Test func copiesNonASCIITextAsItsUTF8Bytes() throws {
        let text = "é ü 日本語 😀 👩‍👩‍👧"
        var bytes: [UInt8] = []
        JSONWriter.appendQuoted(text, to: &bytes)
        #expect(bytes == [UInt8(ascii: "\"")] + Array(text.utf8) + [UInt8(ascii: "\"")])
        #expect(try JSONValue.parse(bytes) == .string(text))
    }

    @Test func writesTheEmptyString() {
        #expect(Self.quoted("") == #""""#)
    }

    @Test func placesCommasAndKeepsKeyOrder() {
        var json = JSONWriter()
        json.objectStart()
        json.key("z")
        json.int(-42)
        json.key("a")
        json.arrayStart()
        json.string("x")
        json.string(nil as String?)
        json.bool(true)
        json.double(1.5)
        json.double(.nan)
        json.int(nil as Int?)
        json.arrayEnd()
        json.key("e")
        json.strings([])
        json.key("v")
        json.json(["b": 1, "a": [0.1, "\u{C}"]])
        json.key("r")
        json.raw("[1]")
        json.key("o")
        json.objectStart()
        json.objectEnd()
        json.objectEnd()
        #expect(json.text == #"{"z":-42,"a":["x",null,true,1.5,null,null],"e":[],"v":{"a":[0.1,"\f"],"b":1},"r":[1],"o":{}}"#)
    }

    @Test(
        arguments: [
            (0.0, "0"), (-0.0, "0"), (7, "7"), (-1234567890123, "-1234567890123"), (0.25, "0.25"), (1e-7, "1e-7"), (1e21, "1e+21"),
        ] as [(Double, String)]
    )
    func writesNumbersLikeJSONValue(_ number: Double, _ expected: String) {
        var json = JSONWriter()
        json.double(number)
        #expect(json.text == expected)
        #expect(JSONValue.number(JSONNumber(number)).jsonText == expected)
    }
}
