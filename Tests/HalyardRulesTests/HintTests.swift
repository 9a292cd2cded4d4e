import HalyardRules
import Testing

/// The hints that turn a validation error into a fix.
struct HintTests {
    private func hint(_ json: String, at pointer: String) -> String? {
        Fixtures.decode(json).errors.first { $0.pointer == pointer }?.hint
    }

    @Test(arguments: [
        ("enabled", #"did you mean "active"?"#),
        ("desc", #"did you mean "description"?"#),
        ("Rules", #"did you mean "rules"?"#),
        ("metaData", #"did you mean "metadata"?"#),
        ("basestate", #"did you mean "baseState"?"#),
        ("matchrule", #"did you mean "matchRules"?"#),
        ("id", #"the flag id is the file name; remove "id""#),
    ])
    func unknownFlagKeys(_ key: String, _ expected: String) {
        #expect(hint(#"{"active": true, "rules": [], "\#(key)": 1}"#, at: "/\(key)") == expected)
    }

    @Test(arguments: [
        ("attr", #"did you mean "attribute"?"#),
        ("value", #"did you mean "comparator"?"#),
        ("operater", #"did you mean "operator"?"#),
        ("xyz", #"a rule of type "filter" has the keys "type", "attribute", "operator" and "comparator""#),
    ])
    func unknownRuleKeys(_ key: String, _ expected: String) {
        let json = #"{"active": true, "rules": [[{"type": "filter", "attribute": "a", "operator": "==", "comparator": 1, "\#(key)": 2}]]}"#
        #expect(hint(json, at: "/rules/0/0/\(key)") == expected)
    }

    @Test(arguments: [
        ("Filter", #"rule types are lower-case: use "filter""#),
        ("filtre", #"did you mean "filter"?"#),
        ("rollout", #"use "%""#),
        ("segment", #"a rule's type is "everybody", "nobody", "filter" or "%""#),
    ])
    func unknownRuleTypes(_ type: String, _ expected: String) {
        #expect(hint(#"{"active": true, "rules": [[{"type": "\#(type)"}]]}"#, at: "/rules/0/0/type") == expected)
    }

    @Test(arguments: [
        ("===", #"use "==""#), ("eq", #"use "==""#), ("!==", #"use "!=""#), ("gte", #"use ">=""#), ("contains", #"use "has""#),
        ("HAS", #"use "has""#), ("like", #"regular expressions are not supported; use "in" with a list of values"#),
    ])
    func unknownOperators(_ op: String, _ expected: String) {
        let json = #"{"active": true, "rules": [[{"type": "filter", "attribute": "a", "operator": "\#(op)", "comparator": "x"}]]}"#
        #expect(hint(json, at: "/rules/0/0/operator") == expected)
    }
}

/// Contexts with many attributes, and the table behind them.
struct EvaluationContextTests {
    @Test func manyAttributes() {
        var attributes: [String: JSONValue] = [:]
        for index in 0..<300 { attributes["attribute-\(index)"] = .number(JSONNumber(Double(index))) }
        attributes["nothing"] = .null
        let context = EvaluationContext(attributes)
        #expect(context.attributes.count == 301)
        for index in stride(from: 0, to: 300, by: 7) {
            let flag = Flag(
                id: "f", active: true, rules: [[.filter(attribute: "attribute-\(index)", operator: .equal, comparator: .number(JSONNumber(Double(index))))]])
            #expect(flag.evaluate(context).boolValue)
        }
        let missing = Flag(id: "f", active: true, rules: [[.filter(attribute: "attribute-300", operator: .notEqual, comparator: 1)]])
        #expect(missing.evaluate(context).value == false)
        let null = Flag(id: "f", active: true, rules: [[.filter(attribute: "nothing", operator: .notEqual, comparator: 1)]])
        #expect(null.evaluate(context).value == false)
    }

    @Test func emptyContext() {
        let context = EvaluationContext([:])
        #expect(Flag(id: "f", active: true, rules: [[.filter(attribute: "a", operator: .notEqual, comparator: 1)]]).evaluate(context).value == false)
        #expect(Flag(id: "f", active: true, rules: [[.percentage(basisPoints: 10_000, attribute: nil)]]).evaluate(context).boolValue)
    }
}
