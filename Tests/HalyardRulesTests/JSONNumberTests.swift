import HalyardRules
import Testing

/// Numbers keep the form they were written in, end to end (issue 11): `10` is an integer, `10.0` a float, and
/// integers past 2^53 are not rounded by parsing, normalising or writing.
struct JSONNumberTests {
    static func number(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONNumber? {
        guard case .number(let number) = try? JSONValue.parse(text) else {
            Issue.record("\(text) does not parse as a number", sourceLocation: sourceLocation)
            return nil
        }
        return number
    }

    @Test func integerAndFloatAreDistinct() throws {
        let integer = try #require(Self.number("10"))
        let float = try #require(Self.number("10.0"))
        #expect(integer.double == float.double)
        #expect(integer != float)
        #expect(JSONValue.number(integer) != JSONValue.number(float))
        #expect(integer.text == "10")
        #expect(float.text == "10.0")
        #expect(integer.isInteger)
        #expect(!float.isInteger)
        #expect(integer.int64 == 10)
        #expect(float.int64 == nil)
    }

    @Test(arguments: [
        "0", "-1", "10", "10.0", "2.50", "1e2", "1E+2", "-0.0", "2147483647", "9007199254740991", "9007199254740993", "12345678901234567890",
    ])
    func writtenAsRead(_ text: String) throws {
        let number = try #require(Self.number(text))
        #expect(number.text == text)
        #expect(JSONValue.number(number).jsonText == text)
        var writer = JSONWriter()
        writer.json(.number(number))
        #expect(writer.text == text)
        var bytes: [UInt8] = []
        JSONWriter.appendCanonical(.array([.number(number)]), to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "[\(text)]")
    }

    @Test func exactIntegers() throws {
        #expect(try #require(Self.number("2147483647")).int64 == 2_147_483_647)
        #expect(try #require(Self.number("9007199254740991")).int64 == 9_007_199_254_740_991)
        let past = try #require(Self.number("9007199254740993"))
        #expect(past.int64 == 9_007_199_254_740_993)
        // The Double rounds to 2^53 + 0 or + 2; the text does not.
        #expect(past.double == 9_007_199_254_740_992)
        #expect(past != (try #require(Self.number("9007199254740992"))))
        #expect(try #require(Self.number("12345678901234567890")).int64 == nil)
    }

    @Test func builtNumbersUseTheShortestForm() {
        #expect(JSONNumber(3.5).text == "3.5")
        #expect(JSONNumber(10).text == "10")
        #expect(JSONNumber(10.0).text == "10")
        #expect(JSONValue.number(JSONNumber(0.1 + 0.2)).jsonText == "0.30000000000000004")
        #expect((2.5 as JSONValue).jsonText == "2.5")
        #expect(JSONNumber(1e21).isInteger == false)
    }

    @Test func shortestFormCarriesNoLiteral() throws {
        // A parsed number written in its shortest form equals the same number built in code.
        #expect(try #require(Self.number("42")) == JSONNumber(42))
        #expect(try #require(Self.number("1.5")) == JSONNumber(1.5))
        #expect(try #require(Self.number("10.0")) != JSONNumber(10))
    }

    @Test func exactThroughDecodingNormalisingAndWriting() throws {
        let flag = Fixtures.flag(
            #"""
            {"active": true,
             "variants": {"int": 10, "float": 10.0, "max-int": 2147483647, "max-safe": 9007199254740991, "past-safe": 9007199254740993, "exp": 1e2},
             "defaultVariant": "past-safe", "rules": []}
            """#
        )
        let normalized = flag.normalizedJSON
        let variants = try #require(normalized.objectValue?["variants"]?.objectValue)
        let expected = [
            "int": "10", "float": "10.0", "max-int": "2147483647", "max-safe": "9007199254740991", "past-safe": "9007199254740993", "exp": "1e2",
        ]
        for (name, text) in expected {
            #expect(variants[name]?.jsonText == text, "\(name)")
        }
        var writer = JSONWriter()
        writer.json(normalized)
        for text in expected.values { #expect(writer.text.contains(":\(text)")) }
        guard case .object(var members) = normalized else { return }
        members["id"] = nil
        writer = JSONWriter()
        writer.json(.object(members))
        #expect(flag.evaluate([:]).value.jsonText == "9007199254740993")
        // And back: the written text decodes to an equal flag.
        let reread = try #require(FlagDecoder.decode(writer.text, id: "test-flag", file: Fixtures.file).flag)
        #expect(reread == flag)
    }

    // MARK: - What counts as a change (DESIGN §4)

    static let base =
        #"{"active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": []}"#

    @Test func keyOrderInVariantsIsNoChange() {
        let old = Fixtures.flag(Self.base)
        let reordered = Fixtures.flag(
            #"{"rules": [], "defaultVariant": "a", "variants": {"c": {"y": [1, 2], "x": 1}, "b": {"n": 20}, "a": {"n": 10}}, "active": true}"#
        )
        #expect(old.hasSameTargeting(as: reordered))
        #expect(old == reordered)
        #expect(old.normalizedJSON.jsonText == reordered.normalizedJSON.jsonText)
    }

    @Test(arguments: [
        #"{"active": true, "variants": {"a": {"n": 10.0}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": []}"#,
        #"{"active": true, "variants": {"a": {"n": 11}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": []}"#,
        #"{"active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [2, 1]}}, "defaultVariant": "a", "rules": []}"#,
        #"{"active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}, "d": {}}, "defaultVariant": "a", "rules": []}"#,
        #"{"active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "b", "rules": []}"#,
        #"{"active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": [{"when": [], "serve": "a"}]}"#,
        #"{"active": false, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": []}"#,
    ])
    func valueAndTargetingChangesAreChanges(_ changed: String) {
        #expect(!Fixtures.flag(Self.base).hasSameTargeting(as: Fixtures.flag(changed)))
    }

    @Test func integerToFloatIsAChange() {
        let integer = Fixtures.flag(#"{"active": true, "variants": {"a": 10, "b": 20}, "defaultVariant": "a", "rules": []}"#)
        let float = Fixtures.flag(#"{"active": true, "variants": {"a": 10.0, "b": 20}, "defaultVariant": "a", "rules": []}"#)
        let reordered = Fixtures.flag(#"{"active": true, "variants": {"b": 20, "a": 10}, "defaultVariant": "a", "rules": []}"#)
        #expect(!integer.hasSameTargeting(as: float))
        #expect(integer.hasSameTargeting(as: reordered))
    }

    /// Rules compare numbers by value, so a comparator's written form is formatting: `18` → `18.0` in a rule must not
    /// make a boolean flag "changed" (and publish), as it did not before numbers kept their text.
    @Test(arguments: [("18", "18.0"), ("18", "1.8e1"), ("[1, 2]", "[1.0, 2e0]"), ("100", "100.00")])
    func comparatorNumberFormIsNoChange(_ old: String, _ new: String) {
        func flag(_ comparator: String, _ op: String) -> Flag {
            Fixtures.flag(
                #"{"active": true, "rules": [[{"type": "filter", "attribute": "age", "operator": "\#(op)", "comparator": \#(comparator)}]]}"#
            )
        }
        let op = old.hasPrefix("[") ? "in" : ">="
        #expect(flag(old, op).hasSameTargeting(as: flag(new, op)))
        #expect(flag(old, op).normalizedJSON.jsonText == flag(new, op).normalizedJSON.jsonText)
        let typed = { (comparator: String) in
            Fixtures.flag(
                #"{"active": true, "variants": {"a": 1, "b": 2}, "defaultVariant": "a", "rules": [{"when": [{"type": "filter", "attribute": "age", "operator": "\#(op)", "comparator": \#(comparator)}], "serve": "b"}]}"#
            )
        }
        #expect(typed(old).hasSameTargeting(as: typed(new)))
    }

    @Test func splitShareChangeIsAChange() {
        func flag(_ a: Int, _ b: Int) -> Flag {
            Fixtures.flag(
                #"{"active": true, "variants": {"a": 1, "b": 2}, "defaultVariant": "a", "rules": [{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": \#(a)}, {"variant": "b", "percentage": \#(b)}]}}]}"#
            )
        }
        #expect(flag(50, 50).hasSameTargeting(as: flag(50, 50)))
        #expect(!flag(50, 50).hasSameTargeting(as: flag(70, 30)))
    }

    @Test func metadataIsNoTargetingChange() {
        let old = Fixtures.flag(Self.base)
        let renamed = Fixtures.flag(
            #"{"name": "Other", "metadata": {"owner": "x"}, "active": true, "variants": {"a": {"n": 10}, "b": {"n": 20}, "c": {"x": 1, "y": [1, 2]}}, "defaultVariant": "a", "rules": []}"#
        )
        #expect(old.hasSameTargeting(as: renamed))
        #expect(!old.hasSameDescriptiveFields(as: renamed))
    }
}
