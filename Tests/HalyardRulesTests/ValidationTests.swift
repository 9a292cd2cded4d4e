import HalyardRules
import Testing

/// DESIGN §3: every problem of a file, each with its pointer, message and hint.
struct ValidationTests {
    struct BadFile: CustomTestStringConvertible, Sendable {
        let name: String
        let json: String
        let pointer: String
        let message: String
        var hint: String?
        var testDescription: String { name }
    }

    static let badFiles: [BadFile] = [
        BadFile(
            name: "top level is an array", json: "[]", pointer: "", message: "a flag file must contain a JSON object, not an array",
            hint: #"start from {"active": true, "rules": []}"#),
        BadFile(name: "missing active", json: #"{"rules": []}"#, pointer: "", message: #"missing required key "active""#),
        BadFile(
            name: "missing rules", json: #"{"active": true}"#, pointer: "", message: #"missing required key "rules""#,
            hint: #"add "rules": [] to select nobody, or [[]] to select everybody"#),
        BadFile(
            name: "misspelt baseState", json: #"{"active": true, "baseSate": true, "rules": []}"#, pointer: "/baseSate",
            message: #"unknown key "baseSate""#, hint: #"did you mean "baseState"?"#),
        BadFile(
            name: "wrong case of a key", json: #"{"Active": true, "active": true, "rules": []}"#, pointer: "/Active",
            message: #"unknown key "Active""#, hint: #"did you mean "active"?"#),
        BadFile(
            name: "unrelated unknown key", json: #"{"active": true, "rules": [], "zzz": 1}"#, pointer: "/zzz",
            message: #"unknown key "zzz""#,
            hint: #"a flag has the keys "name", "description", "active", "baseState", "rules", "metadata" and "matchRules""#),
        BadFile(
            name: "active as a string", json: #"{"active": "true", "rules": []}"#, pointer: "/active",
            message: #""active" must be true or false, not a string"#, hint: "write true without quotes"),
        BadFile(
            name: "baseState as a number", json: #"{"active": true, "baseState": 0, "rules": []}"#, pointer: "/baseState",
            message: #""baseState" must be true or false, not a number"#, hint: "write false"),
        BadFile(
            name: "name as a number", json: #"{"name": 7, "active": true, "rules": []}"#, pointer: "/name",
            message: #""name" must be a string, not a number"#),
        BadFile(
            name: "metadata as an array", json: #"{"active": true, "rules": [], "metadata": []}"#, pointer: "/metadata",
            message: #""metadata" must be an object, not an array"#),
        BadFile(
            name: "rules as an object", json: #"{"active": true, "rules": {}}"#, pointer: "/rules",
            message: #""rules" must be an array of rule groups, not an object"#),
        BadFile(
            name: "group is not an array", json: #"{"active": true, "rules": [[], {"type": "everybody"}]}"#, pointer: "/rules/1",
            message: "a rule group must be an array of rules, not an object", hint: "wrap the rule in [ ] to make a group of one rule"),
        BadFile(
            name: "rule is not an object", json: #"{"active": true, "rules": [["everybody"]]}"#, pointer: "/rules/0/0",
            message: "a rule must be an object, not a string", hint: #"write {"type": "everybody"}"#),
        BadFile(
            name: "rule without type", json: #"{"active": true, "rules": [[{}]]}"#, pointer: "/rules/0/0",
            message: #"missing required key "type""#),
        BadFile(
            name: "upper-case type", json: #"{"active": true, "rules": [[{"type": "EVERYBODY"}]]}"#, pointer: "/rules/0/0/type",
            message: #"unknown rule type "EVERYBODY""#, hint: #"rule types are lower-case: use "everybody""#),
        BadFile(
            name: "percentage spelt out as the type", json: #"{"active": true, "rules": [[{"type": "percentage", "percentage": 5}]]}"#,
            pointer: "/rules/0/0/type", message: #"unknown rule type "percentage""#, hint: #"use "%""#),
        BadFile(
            name: "operator =", json: filter(op: #""=""#, comparator: #""x""#), pointer: "/rules/0/1/operator",
            message: #"unknown operator "=""#, hint: #"use "==""#),
        BadFile(
            name: "operator <>", json: filter(op: #""<>""#, comparator: #""x""#), pointer: "/rules/0/1/operator",
            message: #"unknown operator "<>""#, hint: #"use "!=""#),
        BadFile(
            name: "operator =~", json: filter(op: #""=~""#, comparator: #""x""#), pointer: "/rules/0/1/operator",
            message: #"unknown operator "=~""#, hint: #"regular expressions are not supported; use "in" with a list of values"#),
        BadFile(
            name: "operator IN", json: filter(op: #""IN""#, comparator: #"["x"]"#), pointer: "/rules/0/1/operator",
            message: #"unknown operator "IN""#, hint: #"use "in""#),
        BadFile(
            name: "operator as a number", json: filter(op: "1", comparator: #""x""#), pointer: "/rules/0/1/operator",
            message: #""operator" must be a string, not a number"#),
        BadFile(
            name: "array comparator with ==", json: filter(op: #""==""#, comparator: #"["a", "b"]"#), pointer: "/rules/0/1/comparator",
            message: #"the comparator of "==" must be a string, number or boolean, not an array"#,
            hint: #"use "in" to match any of several values"#),
        BadFile(
            name: "object comparator with >=", json: filter(op: #"">=""#, comparator: #"{"v": 1}"#), pointer: "/rules/0/1/comparator",
            message: #"the comparator of ">=" must be a string, number or boolean, not an object"#),
        BadFile(
            name: "number comparator with in", json: filter(op: #""in""#, comparator: "42"), pointer: "/rules/0/1/comparator",
            message: #"the comparator of "in" must be an array or a comma-separated string, not a number"#, hint: "write [42]"),
        BadFile(
            name: "nested array inside in", json: filter(op: #""in""#, comparator: #"["a", ["b"]]"#), pointer: "/rules/0/1/comparator/1",
            message: #"the items of an "in" comparator must be strings, numbers or booleans, not an array"#),
        BadFile(
            name: "array comparator with has", json: filter(op: #""has""#, comparator: #"["writer"]"#), pointer: "/rules/0/1/comparator",
            message: #"the comparator of "has" must be a string, number or boolean, not an array"#,
            hint: #""has" looks for one value; use one "has" rule per value"#),
        BadFile(
            name: "null comparator", json: filter(op: #""==""#, comparator: "null"), pointer: "/rules/0/1/comparator",
            message: #""comparator" must not be null"#),
        BadFile(
            name: "empty attribute", json: #"{"active": true, "rules": [[{"type": "filter", "attribute": "", "operator": "==", "comparator": 1}]]}"#,
            pointer: "/rules/0/0/attribute", message: #""attribute" must not be empty"#),
        BadFile(
            name: "filter without operator",
            json: #"{"active": true, "rules": [[{"type": "filter", "attribute": "plan", "comparator": "pro"}]]}"#,
            pointer: "/rules/0/0", message: #"missing required key "operator""#),
        BadFile(
            name: "filter without comparator",
            json: #"{"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "=="}]]}"#,
            pointer: "/rules/0/0", message: #"missing required key "comparator""#),
        BadFile(
            name: "filter without attribute",
            json: #"{"active": true, "rules": [[{"type": "filter", "operator": "==", "comparator": "pro"}]]}"#,
            pointer: "/rules/0/0", message: #"missing required key "attribute""#),
        BadFile(
            name: "misspelt rule key", json: filter(op: #""==""#, comparator: #""x""#).replacingComparatorKey(with: "comparater"),
            pointer: "/rules/0/1/comparater", message: #"unknown key "comparater""#, hint: #"did you mean "comparator"?"#),
        BadFile(
            name: "key of another rule type",
            json: #"{"active": true, "rules": [[{"type": "everybody", "attribute": "x"}]]}"#, pointer: "/rules/0/0/attribute",
            message: #""attribute" does not apply to rules of type "everybody""#, hint: "remove it"),
        BadFile(
            name: "% without percentage", json: #"{"active": true, "rules": [[{"type": "%", "attribute": "userId"}]]}"#,
            pointer: "/rules/0/0", message: #"missing required key "percentage""#),
        BadFile(
            name: "percentage above 100", json: #"{"active": true, "rules": [[{"type": "%", "percentage": 150, "attribute": "u"}]]}"#,
            pointer: "/rules/0/0/percentage", message: #""percentage" must be between 0 and 100, not 150"#),
        BadFile(
            name: "negative percentage", json: #"{"active": true, "rules": [[{"type": "%", "percentage": -1, "attribute": "u"}]]}"#,
            pointer: "/rules/0/0/percentage", message: #""percentage" must be between 0 and 100, not -1"#),
        BadFile(
            name: "three decimals", json: #"{"active": true, "rules": [[{"type": "%", "percentage": 12.345, "attribute": "u"}]]}"#,
            pointer: "/rules/0/0/percentage", message: #""percentage" may have at most two decimals, not 12.345"#),
        BadFile(
            name: "percentage as a string", json: #"{"active": true, "rules": [[{"type": "%", "percentage": "50%", "attribute": "u"}]]}"#,
            pointer: "/rules/0/0/percentage", message: #""percentage" must be a number, not a string"#, hint: "write 50 without quotes"),
        BadFile(
            name: "attribute as a number", json: #"{"active": true, "rules": [[{"type": "%", "percentage": 5, "attribute": 7}]]}"#,
            pointer: "/rules/0/0/attribute", message: #""attribute" must be a string, not a number"#),
        BadFile(
            name: "matchRules with grouped rules", json: #"{"active": true, "matchRules": "ALL", "rules": [[{"type": "everybody"}]]}"#,
            pointer: "/matchRules", message: #""matchRules" only applies to a flat 0.2 "rules" array"#),
        BadFile(
            name: "lower-case matchRules", json: #"{"active": true, "matchRules": "all", "rules": [{"type": "everybody"}]}"#,
            pointer: "/matchRules", message: #""matchRules" must be "ALL" or "ANY", not "all""#, hint: #"write "ALL" in upper case"#),
        BadFile(
            name: "key with a slash", json: #"{"active": true, "rules": [], "a/b~c": 1}"#, pointer: "/a~1b~0c",
            message: #"unknown key "a/b~c""#),
        BadFile(
            name: "invalid JSON", json: "{\n  \"active\": true,\n  \"rules\": [],\n}", pointer: "",
            message: "invalid JSON at line 4, column 1: a trailing comma before '}' is not allowed"),
        BadFile(name: "empty file", json: "", pointer: "", message: "invalid JSON at line 1, column 1: the text is empty; expected a JSON value"),
        BadFile(
            name: "duplicate key", json: #"{"active": true, "active": false, "rules": []}"#, pointer: "",
            message: #"invalid JSON at line 1, column 18: duplicate object key "active""#),
    ]

    private static func filter(op: String, comparator: String) -> String {
        #"{"active": true, "rules": [[{"type": "everybody"}, {"type": "filter", "attribute": "plan", "operator": "#
            + op + #", "comparator": "# + comparator + "}]]}"
    }

    @Test(arguments: badFiles)
    func reportsTheProblemWithItsPointer(_ bad: BadFile) {
        let result = Fixtures.decode(bad.json)
        #expect(result.flag == nil)
        #expect(result.hasErrors)
        let matching = result.errors.filter { $0.pointer == bad.pointer && $0.message == bad.message }
        #expect(matching.count == 1, "got \(result.diagnostics.map(\.description))")
        if let hint = bad.hint { #expect(matching.first?.hint == hint) }
        #expect(matching.first?.file == Fixtures.file)
    }

    @Test func reportsEveryProblemNotJustTheFirst() {
        let result = Fixtures.decode(
            #"""
            {
              "active": "yes",
              "baseSate": true,
              "rules": [
                [ {"type": "filter", "attribute": "plan", "operator": "=", "comparator": ["a"]},
                  {"type": "EVERYBODY"} ],
                [ {"type": "%", "percentage": 101} ]
              ]
            }
            """#)
        #expect(result.flag == nil)
        let found = Set(result.errors.map { "\($0.pointer): \($0.message)" })
        #expect(
            found == [
                #"/active: "active" must be true or false, not a string"#,
                #"/baseSate: unknown key "baseSate""#,
                #"/rules/0/0/operator: unknown operator "=""#,
                #"/rules/0/1/type: unknown rule type "EVERYBODY""#,
                #"/rules/1/0/percentage: "percentage" must be between 0 and 100, not 101"#,
            ])
        // The % rule without attribute also gets its warning.
        #expect(result.warnings.map(\.pointer) == ["/rules/1/0"])
    }

    @Test func percentageWithoutAttributeIsOnlyAWarning() throws {
        let result = Fixtures.decode(#"{"active": true, "rules": [[{"type": "%", "percentage": 12.5}]]}"#)
        #expect(!result.hasErrors)
        let warning = try #require(result.warnings.first)
        #expect(warning.severity == .warning)
        #expect(warning.pointer == "/rules/0/0")
        #expect(warning.message.contains("moves whenever any of their attributes changes"))
        #expect(result.flag?.rules == [[.percentage(basisPoints: 1250, attribute: nil)]])
    }

    @Test func validPercentages() {
        for (text, basisPoints) in [
            ("0", 0), ("100", 10_000), ("0.01", 1), ("12.34", 1234), ("99.99", 9999), ("33.3", 3330), ("1e1", 1000), ("0.29", 29),
        ] {
            let result = Fixtures.decode(#"{"active": true, "rules": [[{"type": "%", "percentage": \#(text), "attribute": "u"}]]}"#)
            #expect(result.flag?.rules == [[.percentage(basisPoints: basisPoints, attribute: "u")]], "\(text)")
            #expect(result.diagnostics.isEmpty)
        }
    }

    @Test func oversizedFilesAreRejectedBeforeParsing() {
        var bytes = Array(#"{"active": true, "rules": [], "description": ""#.utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: FlagPath.maximumFileSize)
        bytes += Array(#""}"#.utf8)
        let result = FlagDecoder.decode(bytes, id: "big", file: "flags/production/big.json")
        #expect(result.flag == nil)
        #expect(result.diagnostics.count == 1)
        #expect(result.errors.first?.pointer == "")
        #expect(result.errors.first?.message == "the file is \(bytes.count) bytes; a flag file may be at most 1048576 bytes (1 MiB)")
        // Exactly 1 MiB is allowed.
        let padding = FlagPath.maximumFileSize - #"{"active": true, "rules": []}"#.utf8.count
        let exact = Array(#"{"active": true, "rules": []}"#.utf8) + [UInt8](repeating: UInt8(ascii: " "), count: padding)
        #expect(FlagDecoder.decode(exact, id: "big", file: "f").flag != nil)
    }

    @Test func notUTF8IsAnError() {
        let bytes = Array(#"{"active": true, "rules": [], "name": ""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        let result = FlagDecoder.decode(bytes, id: "x", file: "flags/production/x.json")
        #expect(result.flag == nil)
        #expect(result.errors.map(\.message) == ["the file is not valid UTF-8: byte 0xFF at line 1, column 40"])
        #expect(result.errors.first?.hint == "save the file as UTF-8")
    }

    @Test func diagnosticsDescribeThemselves() {
        let diagnostic = Diagnostic(
            severity: .error, file: "flags/production/x.json", pointer: "/rules/0/1/operator",
            message: #"unknown operator "=""#, hint: #"use "==""#)
        #expect(diagnostic.description == #"flags/production/x.json: /rules/0/1/operator: unknown operator "=" (hint: use "==")"#)
        let whole = Diagnostic(severity: .warning, file: "f.json", pointer: "", message: "m")
        #expect(whole.description == "f.json: /: m")
    }

    @Test func aValidFileHasNoDiagnostics() {
        let result = Fixtures.decode(
            #"""
            {"name": "N", "description": "D", "active": false, "baseState": true, "metadata": {"owner": "me"},
             "rules": [[{"type": "filter", "attribute": "a", "operator": "in", "comparator": "x, y"},
                        {"type": "filter", "attribute": "b", "operator": "has", "comparator": 3},
                        {"type": "filter", "attribute": "c", "operator": "<=", "comparator": "2.5"},
                        {"type": "%", "percentage": 5, "attribute": "userId"}],
                       [{"type": "nobody"}]]}
            """#)
        #expect(result.diagnostics.isEmpty)
        #expect(result.flag?.active == false)
        #expect(result.flag?.description == "D")
    }
}

extension String {
    fileprivate func replacingComparatorKey(with key: String) -> String {
        var copy = self
        if let range = copy.firstRange(of: "\"comparator\"") { copy.replaceSubrange(range, with: "\"\(key)\"") }
        return copy
    }
}
