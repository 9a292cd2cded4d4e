/// Checks a parsed flag file against DESIGN §1 and §3 and builds the normalised ``Flag``.
///
/// The validator never stops at the first problem: every key and every rule is checked, and each problem becomes a
/// ``Diagnostic`` with its JSON pointer. The returned flag is meaningful only when ``hasErrors`` is `false`.
struct FlagValidator {
    static let flagKeys = ["name", "description", "active", "baseState", "rules", "metadata", "matchRules"]
    static let typedFlagKeys = ["name", "description", "active", "variants", "defaultVariant", "rules", "metadata"]
    static let ruleTypes = ["everybody", "nobody", "filter", "%"]
    static let allRuleKeys = ["type", "attribute", "operator", "comparator", "percentage"]

    let file: String
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var hasErrors = false

    init(file: String) { self.file = file }

    // MARK: - Flag

    mutating func flag(from document: JSONValue, id: String) -> Flag? {
        guard case .object(let members) = document else {
            error(
                "", "a flag file must contain a JSON object, not \(document.typeDescription)",
                hint: #"start from {"active": true, "rules": []}"#)
            return nil
        }
        let isTyped = members["variants"] != nil
        let keys = isTyped ? Self.typedFlagKeys : Self.flagKeys
        for key in members.keys.sorted() where !keys.contains(key) {
            let pointer = JSONPointer.appending(key, to: "")
            switch (isTyped, key) {
            case (true, "baseState"):
                error(pointer, #""baseState" is not allowed with "variants""#, hint: #"a typed flag serves "defaultVariant" where a boolean flag serves baseState; remove "baseState""#)
            case (true, "matchRules"):
                error(pointer, #""matchRules" is not allowed with "variants""#, hint: #"a typed flag's rules are groups {"when": [...], "serve": name}; remove "matchRules""#)
            case (false, "defaultVariant"):
                error(pointer, #""defaultVariant" needs "variants""#, hint: #"add "variants": {name: value, ...}, or remove "defaultVariant" for a boolean flag"#)
            default:
                unknownKey(key, at: pointer, candidates: keys, context: isTyped ? "a typed flag" : "a flag")
            }
        }
        let name = string(members["name"], at: "/name", key: "name") ?? id
        let description = string(members["description"], at: "/description", key: "description") ?? ""
        let active = requiredBool(members["active"], key: "active", hint: #"add "active": true to turn targeting on, or false"#)
        if isTyped {
            let metadata = self.metadata(members["metadata"])
            guard let targeting = typedTargeting(members), let active, !hasErrors else { return nil }
            return Flag(id: id, name: name, description: description, active: active, targeting: targeting, metadata: metadata)
        }
        let baseState = members["baseState"].map { bool($0, at: "/baseState", key: "baseState") ?? false } ?? false
        let metadata = self.metadata(members["metadata"])
        let matchRules = self.matchRules(members["matchRules"])
        var rules: [[Rule]] = []
        if let value = members["rules"] {
            rules = self.rules(value, matchRules: matchRules, matchRulesPresent: members["matchRules"] != nil)
        } else {
            error("", "missing required key \"rules\"", hint: #"add "rules": [] to select nobody, or [[]] to select everybody"#)
        }
        guard let active, !hasErrors else { return nil }
        return Flag(id: id, name: name, description: description, active: active, baseState: baseState, rules: rules, metadata: metadata)
    }

    private mutating func metadata(_ value: JSONValue?) -> [String: JSONValue] {
        guard let value else { return [:] }
        if case .object(let object) = value { return object }
        error("/metadata", "\"metadata\" must be an object, not \(value.typeDescription)", hint: #"write "metadata": {"owner": "team"}"#)
        return [:]
    }

    private enum MatchRules {
        case all
        case any
        case invalid
    }

    private mutating func matchRules(_ value: JSONValue?) -> MatchRules? {
        guard let value else { return nil }
        switch value {
        case .string("ALL"): return .all
        case .string("ANY"): return .any
        case .string(let text):
            let upper = text.uppercased()
            let hint = upper == "ALL" || upper == "ANY" ? "write \"\(upper)\" in upper case" : #"use "ALL" (every rule) or "ANY" (any rule)"#
            error("/matchRules", "\"matchRules\" must be \"ALL\" or \"ANY\", not \"\(text)\"", hint: hint)
        default:
            error("/matchRules", "\"matchRules\" must be the string \"ALL\" or \"ANY\", not \(value.typeDescription)", hint: nil)
        }
        return .invalid
    }

    // MARK: - Rules

    private mutating func rules(_ value: JSONValue, matchRules: MatchRules?, matchRulesPresent: Bool) -> [[Rule]] {
        guard case .array(let elements) = value else {
            error(
                "/rules", "\"rules\" must be an array of rule groups, not \(value.typeDescription)",
                hint: #"write "rules": [[{"type": "everybody"}]]"#)
            return []
        }
        var hasTypedGroups = false
        for (index, element) in elements.enumerated() {
            guard let members = element.objectValue, members["type"] == nil,
                members["when"] != nil || members["serve"] != nil || members["split"] != nil
            else { continue }
            hasTypedGroups = true
            error(
                JSONPointer.appending(index, to: "/rules"), #"a rule group with "when", "serve" or "split" needs "variants""#,
                hint: #"add "variants" and "defaultVariant" to make a typed flag, or write a boolean flag's group as an array of rules"#)
        }
        if hasTypedGroups { return [] }
        let isFlat = elements.isEmpty ? matchRulesPresent : elements.allSatisfy { $0.objectValue != nil }
        if isFlat {
            var flat: [Rule] = []
            for (index, element) in elements.enumerated() {
                if let rule = rule(element, at: JSONPointer.appending(index, to: "/rules")) { flat.append(rule) }
            }
            let pointer = matchRulesPresent ? "/matchRules" : "/rules"
            let subject = matchRulesPresent ? #""matchRules" and the flat 0.2 "rules" array are"# : #"the flat 0.2 "rules" array is"#
            if matchRules == .all {
                let hint = #"write the rules as one group, "rules": [[rule, rule, …]], and remove "matchRules""#
                warning(pointer, "\(subject) deprecated", hint: hint)
                return [flat]
            }
            let remove = matchRulesPresent ? #", and remove "matchRules""# : ""
            warning(pointer, "\(subject) deprecated", hint: #"write one group per rule, "rules": [[rule], [rule], …]"# + remove)
            return flat.map { [$0] }
        }
        if matchRulesPresent {
            error(
                "/matchRules", #""matchRules" only applies to a flat 0.2 "rules" array"#,
                hint: #"remove it: grouped rules already mean OR over groups and AND inside a group"#)
        }
        var groups: [[Rule]] = []
        for (groupIndex, element) in elements.enumerated() {
            let groupPointer = JSONPointer.appending(groupIndex, to: "/rules")
            guard case .array(let ruleValues) = element else {
                let hint = element.objectValue != nil ? "wrap the rule in [ ] to make a group of one rule" : nil
                error(groupPointer, "a rule group must be an array of rules, not \(element.typeDescription)", hint: hint)
                continue
            }
            var group: [Rule] = []
            for (ruleIndex, ruleValue) in ruleValues.enumerated() {
                if let rule = rule(ruleValue, at: JSONPointer.appending(ruleIndex, to: groupPointer)) { group.append(rule) }
            }
            groups.append(group)
        }
        return groups
    }

    mutating func rule(_ value: JSONValue, at pointer: String) -> Rule? {
        guard case .object(let members) = value else {
            var hint: String?
            if case .string(let text) = value, Self.ruleTypes.contains(text.lowercased()) {
                hint = "write {\"type\": \"\(text.lowercased())\"}"
            }
            error(pointer, "a rule must be an object, not \(value.typeDescription)", hint: hint)
            return nil
        }
        let errorsBefore = errorCount
        let type = ruleType(members["type"], at: pointer)
        let allowed: [String]
        switch type {
        case "everybody", "nobody": allowed = ["type"]
        case "filter": allowed = ["type", "attribute", "operator", "comparator"]
        case "%": allowed = ["type", "percentage", "attribute"]
        default: allowed = Self.allRuleKeys
        }
        for key in members.keys.sorted() where !allowed.contains(key) {
            let keyPointer = JSONPointer.appending(key, to: pointer)
            if Self.allRuleKeys.contains(key), let type {
                error(keyPointer, "\"\(key)\" does not apply to rules of type \"\(type)\"", hint: "remove it")
            } else {
                unknownKey(key, at: keyPointer, candidates: allowed, context: type.map { "a rule of type \"\($0)\"" } ?? "a rule")
            }
        }
        var result: Rule?
        switch type {
        case "everybody":
            result = .everybody
        case "nobody":
            result = .nobody
        case "filter":
            result = filter(members, at: pointer)
        case "%":
            result = percentage(members, at: pointer)
        default:
            result = nil
        }
        return errorCount == errorsBefore ? result : nil
    }

    private mutating func ruleType(_ value: JSONValue?, at pointer: String) -> String? {
        guard let value else {
            error(pointer, "missing required key \"type\"", hint: "a rule's type is \(Suggestion.list(Self.ruleTypes, conjunction: "or"))")
            return nil
        }
        let typePointer = pointer + "/type"
        guard case .string(let type) = value else {
            error(
                typePointer, "\"type\" must be a string, not \(value.typeDescription)",
                hint: "a rule's type is \(Suggestion.list(Self.ruleTypes, conjunction: "or"))")
            return nil
        }
        if Self.ruleTypes.contains(type) { return type }
        var hint: String
        if Self.ruleTypes.contains(type.lowercased()) {
            hint = "rule types are lower-case: use \"\(type.lowercased())\""
        } else if ["percentage", "percent", "rollout", "percent-rollout"].contains(type.lowercased()) {
            hint = #"use "%""#
        } else if let suggestion = Suggestion.closest(to: type, among: Self.ruleTypes) {
            hint = "did you mean \"\(suggestion)\"?"
        } else {
            hint = "a rule's type is \(Suggestion.list(Self.ruleTypes, conjunction: "or"))"
        }
        error(typePointer, "unknown rule type \"\(type)\"", hint: hint)
        return nil
    }

    private mutating func filter(_ members: [String: JSONValue], at pointer: String) -> Rule? {
        let attribute = attributeName(members["attribute"], at: pointer, required: true)
        var op: RuleOperator?
        if let value = members["operator"] {
            op = ruleOperator(value, at: pointer + "/operator")
        } else {
            error(
                pointer, "missing required key \"operator\"",
                hint: "an operator is \(Suggestion.list(RuleOperator.allCases.map(\.rawValue), conjunction: "or"))")
        }
        guard let comparator = members["comparator"] else {
            error(pointer, "missing required key \"comparator\"", hint: "the comparator is the value the attribute is compared with")
            return nil
        }
        if let op { checkComparator(comparator, for: op, at: pointer + "/comparator") }
        guard let attribute, let op else { return nil }
        return .filter(attribute: attribute, operator: op, comparator: Self.comparatorValue(comparator))
    }

    /// The comparator with its numbers in their shortest form. Rules compare numbers by value (DESIGN §2), so how a
    /// comparator's number is written (`18`, `18.0`, `1.8e1`) is formatting: it must not make a flag "changed"
    /// (DESIGN §4), and the normalised form writes it as `18`. Only variant values keep their written form.
    static func comparatorValue(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number(let number): .number(JSONNumber(number.double))
        case .array(let items): .array(items.map(comparatorValue))
        default: value
        }
    }

    private mutating func ruleOperator(_ value: JSONValue, at pointer: String) -> RuleOperator? {
        let operators = RuleOperator.allCases.map(\.rawValue)
        guard case .string(let text) = value else {
            error(
                pointer, "\"operator\" must be a string, not \(value.typeDescription)",
                hint: "an operator is \(Suggestion.list(operators, conjunction: "or"))")
            return nil
        }
        if let op = RuleOperator(rawValue: text) { return op }
        let hint: String
        switch text.lowercased() {
        case "=", "===", "eq", "equals", "is": hint = #"use "==""#
        case "<>", "!==", "ne", "neq", "not", "isnot": hint = #"use "!=""#
        case "lt": hint = #"use "<""#
        case "lte", "le", "=<": hint = #"use "<=""#
        case "gt": hint = #"use ">""#
        case "gte", "ge", "=>": hint = #"use ">=""#
        case "in", "oneof", "one of", "any": hint = #"use "in""#
        case "has", "contains", "includes": hint = #"use "has""#
        case "=~", "~=", "~", "matches", "regex", "like":
            hint = "regular expressions are not supported; use \"in\" with a list of values"
        default: hint = "an operator is \(Suggestion.list(operators, conjunction: "or"))"
        }
        error(pointer, "unknown operator \"\(text)\"", hint: hint)
        return nil
    }

    private mutating func checkComparator(_ comparator: JSONValue, for op: RuleOperator, at pointer: String) {
        switch (op, comparator) {
        case (_, .null):
            error(pointer, "\"comparator\" must not be null", hint: "compare with a string, number or boolean")
        case (.in, .array(let elements)):
            for (index, element) in elements.enumerated() {
                switch element {
                case .string, .number, .bool: continue
                default:
                    error(
                        JSONPointer.appending(index, to: pointer),
                        "the items of an \"in\" comparator must be strings, numbers or booleans, not \(element.typeDescription)", hint: nil)
                }
            }
        case (.in, .string):
            break
        case (.in, _):
            let hint: String? = if case .object = comparator { nil } else { "write [\(comparator.jsonText)]" }
            error(pointer, "the comparator of \"in\" must be an array or a comma-separated string, not \(comparator.typeDescription)", hint: hint)
        case (.has, .array), (.has, .object):
            error(
                pointer, "the comparator of \"has\" must be a string, number or boolean, not \(comparator.typeDescription)",
                hint: "\"has\" looks for one value; use one \"has\" rule per value")
        case (_, .array), (_, .object):
            let hint: String? = op == .equal ? #"use "in" to match any of several values"# : nil
            error(pointer, "the comparator of \"\(op.rawValue)\" must be a string, number or boolean, not \(comparator.typeDescription)", hint: hint)
        default:
            break
        }
    }

    private mutating func percentage(_ members: [String: JSONValue], at pointer: String) -> Rule? {
        var basisPoints: Int?
        if let value = members["percentage"] {
            basisPoints = self.basisPoints(value, at: pointer + "/percentage")
        } else {
            error(pointer, "missing required key \"percentage\"", hint: #"add "percentage": 25 for a quarter of users"#)
        }
        var attribute: String?
        if members["attribute"] != nil {
            attribute = attributeName(members["attribute"], at: pointer, required: false)
        } else {
            warning(
                pointer,
                "a \"%\" rule without \"attribute\" uses Semaphore's bucketing, so a user's bucket moves whenever any of their attributes changes",
                hint: #"add "attribute": "userId" (any stable id) for sticky buckets; this changes which users are selected"#)
        }
        guard let basisPoints, members["attribute"] == nil || attribute != nil else { return nil }
        return .percentage(basisPoints: basisPoints, attribute: attribute)
    }

    mutating func basisPoints(_ value: JSONValue, at pointer: String) -> Int? {
        guard case .number(let number) = value else {
            var hint: String?
            if case .string(let text) = value, let number = NumericText.value(of: text.hasSuffix("%") ? String(text.dropLast()) : text) {
                hint = "write \(JSONNumberFormatting.shortest(number)) without quotes"
            }
            error(pointer, "\"percentage\" must be a number, not \(value.typeDescription)", hint: hint)
            return nil
        }
        let percentage = number.double
        guard percentage >= 0, percentage <= 100 else {
            error(pointer, "\"percentage\" must be between 0 and 100, not \(JSONNumberFormatting.shortest(percentage))", hint: nil)
            return nil
        }
        let basisPoints = Int((percentage * 100).rounded())
        guard Double(basisPoints) / 100 == percentage else {
            error(
                pointer, "\"percentage\" may have at most two decimals, not \(JSONNumberFormatting.shortest(percentage))",
                hint: "percentages have a resolution of 0.01, e.g. \(JSONNumberFormatting.shortest(Double(basisPoints) / 100))")
            return nil
        }
        return basisPoints
    }

    mutating func attributeName(_ value: JSONValue?, at pointer: String, required: Bool) -> String? {
        guard let value else {
            if required {
                error(pointer, "missing required key \"attribute\"", hint: #"name the user attribute to compare, e.g. "attribute": "plan""#)
            }
            return nil
        }
        guard case .string(let name) = value else {
            error(
                pointer + "/attribute", "\"attribute\" must be a string, not \(value.typeDescription)", hint: #"name a user attribute, e.g. "userId""#
            )
            return nil
        }
        guard !name.isEmpty else {
            error(pointer + "/attribute", "\"attribute\" must not be empty", hint: #"name a user attribute, e.g. "userId""#)
            return nil
        }
        return name
    }

    // MARK: - Values

    mutating func string(_ value: JSONValue?, at pointer: String, key: String) -> String? {
        guard let value else { return nil }
        if case .string(let text) = value { return text }
        error(pointer, "\"\(key)\" must be a string, not \(value.typeDescription)", hint: nil)
        return nil
    }

    private mutating func requiredBool(_ value: JSONValue?, key: String, hint: String) -> Bool? {
        guard let value else {
            error("", "missing required key \"\(key)\"", hint: hint)
            return nil
        }
        return bool(value, at: "/" + key, key: key)
    }

    private mutating func bool(_ value: JSONValue, at pointer: String, key: String) -> Bool? {
        if case .bool(let flag) = value { return flag }
        var hint: String?
        if case .string(let text) = value, ["true", "false"].contains(text.lowercased()) {
            hint = "write \(text.lowercased()) without quotes"
        } else if let number = value.numberValue, number == 0 || number == 1 {
            hint = "write \(number == 1 ? "true" : "false")"
        }
        error(pointer, "\"\(key)\" must be true or false, not \(value.typeDescription)", hint: hint)
        return nil
    }

    // MARK: - Diagnostics

    var errorCount: Int { diagnostics.count { $0.severity == .error } }

    mutating func unknownKey(_ key: String, at pointer: String, candidates: [String], context: String) {
        let hint: String
        if key == "id" && candidates.contains("name") {
            hint = "the flag id is the file name; remove \"id\""
        } else if let suggestion = Suggestion.closest(to: key, among: candidates) {
            hint = "did you mean \"\(suggestion)\"?"
        } else {
            hint = "\(context) has the keys \(Suggestion.list(candidates))"
        }
        error(pointer, "unknown key \"\(key)\"", hint: hint)
    }

    mutating func error(_ pointer: String, _ message: String, hint: String?) {
        hasErrors = true
        diagnostics.append(Diagnostic(severity: .error, file: file, pointer: pointer, message: message, hint: hint))
    }

    mutating func warning(_ pointer: String, _ message: String, hint: String?) {
        diagnostics.append(Diagnostic(severity: .warning, file: file, pointer: pointer, message: message, hint: hint))
    }
}
