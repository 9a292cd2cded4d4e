import HalyardRules
import Testing

/// Fixtures shared by the suites: decoding flag text and evaluating single rules.
enum Fixtures {
    static let file = "flags/production/test-flag.json"

    /// Decodes flag JSON text as `flags/production/test-flag.json`.
    static func decode(_ json: String, id: String = "test-flag") -> FlagDecodingResult {
        FlagDecoder.decode(Array(json.utf8), id: id, file: file)
    }

    /// Decodes flag JSON text that must be valid.
    static func flag(_ json: String, id: String = "test-flag", sourceLocation: SourceLocation = #_sourceLocation) -> Flag {
        let result = decode(json, id: id)
        #expect(!result.hasErrors, "unexpected errors: \(result.errors)", sourceLocation: sourceLocation)
        return result.flag ?? Flag(id: id, active: false, rules: [])
    }

    /// Evaluates one filter rule against one attribute value (`nil`: the attribute is missing).
    static func filter(_ attribute: JSONValue?, _ op: RuleOperator, _ comparator: JSONValue) -> Bool {
        let flag = Flag(id: "f", active: true, rules: [[.filter(attribute: "a", operator: op, comparator: comparator)]])
        var user: [String: JSONValue] = ["other": "x"]
        if let attribute { user["a"] = attribute }
        return flag.evaluate(EvaluationContext(user)).boolValue
    }

    /// Whether a one-rule flag selects the user.
    static func selects(_ rule: Rule, flagID: String = "f", _ user: [String: JSONValue]) -> Bool {
        Flag(id: flagID, active: true, rules: [[rule]]).evaluate(EvaluationContext(user)).boolValue
    }
}
