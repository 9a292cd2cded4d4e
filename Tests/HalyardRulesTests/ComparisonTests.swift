import HalyardRules
import Testing

/// DESIGN §2's typed-but-forgiving comparisons, operator by operator and type pair by type pair.
struct ComparisonTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let attribute: JSONValue
        let op: RuleOperator
        let comparator: JSONValue
        let expected: Bool
        var testDescription: String { "\(attribute.jsonText) \(op.rawValue) \(comparator.jsonText) → \(expected)" }
    }

    private static func cases(_ attribute: JSONValue, _ comparator: JSONValue, _ results: [RuleOperator: Bool]) -> [Case] {
        results.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            Case(attribute: attribute, op: $0.key, comparator: comparator, expected: $0.value)
        }
    }

    private static func all(_ eq: Bool, _ ne: Bool, _ lt: Bool, _ le: Bool, _ gt: Bool, _ ge: Bool) -> [RuleOperator: Bool] {
        [.equal: eq, .notEqual: ne, .less: lt, .lessOrEqual: le, .greater: gt, .greaterOrEqual: ge]
    }

    static let stringString: [Case] =
        cases("Production", "production", all(true, false, false, true, false, true))
        + cases("apple", "Banana", all(false, true, true, true, false, false))
        + cases("Zebra", "apple", all(false, true, false, false, true, true))
        + cases("", "", all(true, false, false, true, false, true))
        + cases("ÉCOLE", "école", all(true, false, false, true, false, true))

    static let numericStrings: [Case] =
        cases("10", "9", all(false, true, false, false, true, true))
        + cases("42", "42.0", all(true, false, false, true, false, true))
        + cases("1.10", "1.9", all(false, true, true, true, false, false))
        + cases("1e3", "1000", all(true, false, false, true, false, true))
        + cases(" 42 ", "42", all(true, false, false, true, false, true))
        // A numeric string against a non-numeric one compares as text.
        + cases("10", "abc", all(false, true, true, true, false, false))

    static let stringNumber: [Case] =
        cases("42", 42, all(true, false, false, true, false, true))
        + cases(42, "42", all(true, false, false, true, false, true))
        + cases("-1.5", -1.5, all(true, false, false, true, false, true))
        + cases("7", 10, all(false, true, true, true, false, false))
        + cases(10, "7", all(false, true, false, false, true, true))
        // A non-numeric string and a number are different types: unequal and unordered.
        + cases("ten", 10, all(false, true, false, false, false, false))
        + cases(10, "bar", all(false, true, false, false, false, false))
        + cases("1.", 1, all(false, true, false, false, false, false))
        + cases("0x10", 16, all(false, true, false, false, false, false))

    static let numberNumber: [Case] =
        cases(42, 42, all(true, false, false, true, false, true))
        + cases(1.5, 2, all(false, true, true, true, false, false))
        + cases(-3, -4, all(false, true, false, false, true, true))
        + cases(0, -0.0, all(true, false, false, true, false, true))

    static let boolPairs: [Case] =
        cases(true, true, all(true, false, false, true, false, true))
        + cases(false, true, all(false, true, true, true, false, false))
        + cases(true, "true", all(true, false, false, true, false, true))
        + cases(true, "TRUE", all(true, false, false, true, false, true))
        + cases("False", false, all(true, false, false, true, false, true))
        + cases(false, "true", all(false, true, true, true, false, false))
        // Booleans never equal numbers or other strings.
        + cases(true, 1, all(false, true, false, false, false, false))
        + cases(false, 0, all(false, true, false, false, false, false))
        + cases(0, false, all(false, true, false, false, false, false))
        + cases(true, "yes", all(false, true, false, false, false, false))
        + cases("1", true, all(false, true, false, false, false, false))

    /// An array or object on either side of `==` … `>=` is false, `!=` included.
    static let complexValues: [Case] =
        cases(["a", "b"], "a", all(false, false, false, false, false, false))
        + cases(["x": 1], "x", all(false, false, false, false, false, false))
        + cases("a", ["a"], all(false, false, false, false, false, false))
        + cases(1, ["x": 1], all(false, false, false, false, false, false))
        + cases(["a"], ["a"], all(false, false, false, false, false, false))

    @Test(arguments: stringString)
    func stringsCompareCaseInsensitively(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: numericStrings)
    func numericStringsCompareAsNumbers(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: stringNumber)
    func stringsAndNumbers(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: numberNumber)
    func numbers(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: boolPairs)
    func booleansEqualTheirStrings(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: complexValues)
    func arraysAndObjectsAreNeverComparable(_ example: Case) {
        #expect(Fixtures.filter(example.attribute, example.op, example.comparator) == example.expected)
    }

    @Test(arguments: RuleOperator.allCases)
    func missingAttributeIsFalseForEveryOperator(_ op: RuleOperator) {
        let comparator: JSONValue = op == .in ? ["x"] : "x"
        #expect(Fixtures.filter(nil, op, comparator) == false)
    }

    @Test(arguments: RuleOperator.allCases)
    func nullAttributeIsFalseForEveryOperator(_ op: RuleOperator) {
        let comparator: JSONValue = op == .in ? ["x"] : "x"
        #expect(Fixtures.filter(.null, op, comparator) == false)
    }

    @Test func notEqualIsTrueForAPresentDifferentValue() {
        #expect(Fixtures.filter("y", .notEqual, "x"))
        #expect(Fixtures.filter(nil, .notEqual, "x") == false)
    }

    @Test func attributeNamesMatchExactly() {
        let flag = Flag(id: "f", active: true, rules: [[.filter(attribute: "plan", operator: .equal, comparator: "pro")]])
        #expect(flag.evaluate(["plan": "pro"]).boolValue)
        #expect(flag.evaluate(["Plan": "pro"]).value == false)
        #expect(flag.evaluate(["plan ": "pro"]).value == false)
    }

    // MARK: - in

    @Test func inWithAnArray() {
        #expect(Fixtures.filter("foo", .in, ["a", "foo"]))
        #expect(Fixtures.filter("FOO", .in, ["a", "foo"]))
        #expect(Fixtures.filter("bar", .in, ["a", "foo"]) == false)
        #expect(Fixtures.filter(42, .in, ["17", "42"]))
        #expect(Fixtures.filter("42", .in, [17, 42]))
        #expect(Fixtures.filter("42.0", .in, [42]))
        #expect(Fixtures.filter(42, .in, [23, 19, "hut", "hut", "hike"]) == false)
        #expect(Fixtures.filter(true, .in, ["TRUE", "x"]))
        #expect(Fixtures.filter("true", .in, [true]))
        #expect(Fixtures.filter(false, .in, [true]) == false)
        #expect(Fixtures.filter(1, .in, [true]) == false)
        #expect(Fixtures.filter("x", .in, []) == false)
    }

    @Test func inWithACommaSeparatedStringTrimsAndDropsEmptyItems() {
        #expect(Fixtures.filter("Pop Tarts", .in, "Disney, Pop Tarts"))
        #expect(Fixtures.filter("disney", .in, "Disney, Pop Tarts"))
        #expect(Fixtures.filter("blue", .in, "green, blue"))
        #expect(Fixtures.filter("", .in, "a,,b") == false)
        #expect(Fixtures.filter(42, .in, "17, 42"))
        #expect(Fixtures.filter("foo", .in, "a,b,c") == false)
        #expect(Fixtures.filter("x", .in, "") == false)
    }

    @Test func inWithArrayOrObjectAttributeIsFalse() {
        #expect(Fixtures.filter(["a"], .in, ["a"]) == false)
        #expect(Fixtures.filter(["a": 1], .in, ["a"]) == false)
    }

    @Test func inWithManyItemsUsesTheSameEquality() {
        let items: JSONValue = .array((0..<50).map { .string("item-\($0)") } + (0..<50).map { .number(JSONNumber(Double($0) * 1.5)) })
        #expect(Fixtures.filter("ITEM-7", .in, items))
        #expect(Fixtures.filter("item-50", .in, items) == false)
        #expect(Fixtures.filter(3, .in, items))
        #expect(Fixtures.filter("4.5", .in, items))
        #expect(Fixtures.filter(4, .in, items) == false)
    }

    // MARK: - has

    @Test func hasWithAnArrayAttribute() {
        #expect(Fixtures.filter(["a", "foo"], .has, "foo"))
        #expect(Fixtures.filter(["a", "FOO"], .has, "foo"))
        #expect(Fixtures.filter(["a", "b"], .has, "foo") == false)
        #expect(Fixtures.filter([1, 2, 42], .has, "42"))
        #expect(Fixtures.filter(["true"], .has, true))
        #expect(Fixtures.filter([["nested"]], .has, "nested") == false)
        #expect(Fixtures.filter([], .has, "x") == false)
    }

    @Test func hasWithACommaSeparatedAttribute() {
        #expect(Fixtures.filter("pleb,admin,diety", .has, "admin"))
        #expect(Fixtures.filter("pleb, Admin , diety", .has, "admin"))
        #expect(Fixtures.filter("pleb,admin", .has, "adm") == false)
        #expect(Fixtures.filter("admin", .has, "admin"))
        #expect(Fixtures.filter(" admin ", .has, "admin"))
        #expect(Fixtures.filter("", .has, "") == false)
        #expect(Fixtures.filter("17, 42", .has, 42))
    }

    @Test func hasWithScalarOrObjectAttribute() {
        #expect(Fixtures.filter(42, .has, 42))
        #expect(Fixtures.filter(true, .has, "true"))
        #expect(Fixtures.filter(["a": "x"], .has, "x") == false)
    }

    @Test func hasWithANonScalarComparatorNeverMatches() {
        // `validate` rejects these; a hand-built Flag must still not crash or match.
        #expect(Fixtures.filter(["writer"], .has, ["writer"]) == false)
        #expect(Fixtures.filter("a", .equal, .null) == false)
        #expect(Fixtures.filter("a", .notEqual, .null) == false)
    }
}
