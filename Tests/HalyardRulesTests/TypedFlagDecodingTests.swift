import HalyardRules
import Testing

/// DESIGN §1 "Typed flags: variants": what a typed flag file may hold, and every error with its pointer and hint.
struct TypedFlagDecodingTests {
    struct BadFile: CustomTestStringConvertible, Sendable {
        let name: String
        let json: String
        let pointer: String
        let message: String
        var hint: String?
        var testDescription: String { name }
    }

    /// A valid typed flag's members, for files that break one thing.
    static let variants = #""variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"}"#
    static let enterprise = #"{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}"#

    /// One file per error of DESIGN §1's list, and the neighbouring mistakes people make.
    static let badFiles: [BadFile] = [
        BadFile(
            name: "mixed value kinds: string and number",
            json: #"{"active": true, "variants": {"a": "x", "b": 1}, "defaultVariant": "a", "rules": []}"#,
            pointer: "/variants/b",
            message: #"variant "b" is a number, but "a" is a string"#,
            hint: "all variants of a flag have one kind (boolean, string, number or object)"
        ),
        BadFile(
            name: "mixed value kinds: boolean and object",
            json: #"{"active": true, "variants": {"a": true, "b": {"x": 1}}, "defaultVariant": "a", "rules": []}"#,
            pointer: "/variants/b",
            message: #"variant "b" is an object, but "a" is a boolean"#,
            hint: "all variants of a flag have one kind (boolean, string, number or object)"
        ),
        BadFile(
            name: "unknown variant in defaultVariant",
            json: #"{"active": true, \#(variants), "defaultVariant": "clasic", "rules": []}"#,
            pointer: "/defaultVariant",
            message: #"unknown variant "clasic""#,
            hint: #"did you mean "classic"?"#
        ),
        BadFile(
            name: "unknown variant in defaultVariant, nothing close",
            json: #"{"active": true, \#(variants), "defaultVariant": "zzzzzzzz", "rules": []}"#,
            pointer: "/defaultVariant",
            message: #"unknown variant "zzzzzzzz""#,
            hint: #"the variants are "classic", "compact" and "one-page""#
        ),
        BadFile(
            name: "unknown variant in serve",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [], "serve": "onepage"}]}"#,
            pointer: "/rules/0/serve",
            message: #"unknown variant "onepage""#,
            hint: #"did you mean "one-page"?"#
        ),
        BadFile(
            name: "unknown variant in a split",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "classic", "percentage": 50}, {"variant": "compakt", "percentage": 50}]}}
                ]}
                """#,
            pointer: "/rules/0/split/variants/1/variant",
            message: #"unknown variant "compakt""#,
            hint: #"did you mean "compact"?"#
        ),
        BadFile(
            name: "a group with both serve and split",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "serve": "classic", "split": {"attribute": "userId", "variants": [{"variant": "classic", "percentage": 100}]}}
                ]}
                """#,
            pointer: "/rules/0",
            message: #"a rule group has either "serve" or "split", not both"#,
            hint: #"remove "serve" to split users, or "split" to serve one variant"#
        ),
        BadFile(
            name: "a group with neither serve nor split",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [\#(enterprise)]}]}"#,
            pointer: "/rules/0",
            message: #"a rule group needs "serve" or "split""#,
            hint: #"add "serve": "name" to serve one variant to the group"#
        ),
        BadFile(
            name: "split percentages that add up to 90",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "classic", "percentage": 40}, {"variant": "compact", "percentage": 50}]}}
                ]}
                """#,
            pointer: "/rules/0/split/variants",
            message: "the split's percentages add up to 90, not 100",
            hint: "make the shares add up to exactly 100"
        ),
        BadFile(
            name: "split percentages that add up to 100.01",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "split": {"attribute": "userId", "variants": [
                    {"variant": "classic", "percentage": 33.34}, {"variant": "compact", "percentage": 33.34}, {"variant": "one-page", "percentage": 33.33}]}}
                ]}
                """#,
            pointer: "/rules/0/split/variants",
            message: "the split's percentages add up to 100.01, not 100",
            hint: "make the shares add up to exactly 100"
        ),
        BadFile(
            name: "an array group in a typed flag",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [[\#(enterprise)]]}"#,
            pointer: "/rules/0",
            message: #"a typed flag's rule group must be an object with "when" and "serve" or "split", not an array"#,
            hint: #"write the group as {"when": [rule, ...], "serve": "name"}"#
        ),
        BadFile(
            name: "an object group in a boolean flag",
            json: #"{"active": true, "rules": [{"when": [\#(enterprise)], "serve": "one-page"}]}"#,
            pointer: "/rules/0",
            message: #"a rule group with "when", "serve" or "split" needs "variants""#,
            hint: #"add "variants" and "defaultVariant" to make a typed flag, or write a boolean flag's group as an array of rules"#
        ),
        BadFile(
            name: "baseState with variants",
            json: #"{"active": true, "baseState": true, \#(variants), "defaultVariant": "classic", "rules": []}"#,
            pointer: "/baseState",
            message: #""baseState" is not allowed with "variants""#,
            hint: #"a typed flag serves "defaultVariant" where a boolean flag serves baseState; remove "baseState""#
        ),
        BadFile(
            name: "defaultVariant without variants",
            json: #"{"active": true, "defaultVariant": "classic", "rules": []}"#,
            pointer: "/defaultVariant",
            message: #""defaultVariant" needs "variants""#,
            hint: #"add "variants": {name: value, ...}, or remove "defaultVariant" for a boolean flag"#
        ),
        BadFile(
            name: "missing defaultVariant",
            json: #"{"active": true, \#(variants), "rules": []}"#,
            pointer: "",
            message: #"missing required key "defaultVariant""#,
            hint: #"add "defaultVariant": "classic": it is served when the flag is inactive and when no group matches"#
        ),
        BadFile(
            name: "no variants",
            json: #"{"active": true, "variants": {}, "defaultVariant": "a", "rules": []}"#,
            pointer: "/variants",
            message: #""variants" must have at least one variant"#,
            hint: #"write "variants": {"on": true, "off": false}, or remove "variants" for a boolean flag"#
        ),
        BadFile(
            name: "variants as an array",
            json: #"{"active": true, "variants": ["a", "b"], "defaultVariant": "a", "rules": []}"#,
            pointer: "/variants",
            message: #""variants" must be an object of variant names and values, not an array"#,
            hint: #"write "variants": {"classic": "classic", "one-page": "one-page"}"#
        ),
        BadFile(
            name: "a null variant value",
            json: #"{"active": true, "variants": {"a": "x", "b": null}, "defaultVariant": "a", "rules": []}"#,
            pointer: "/variants/b",
            message: "a variant's value must not be null",
            hint: "serve a boolean, string, number or object"
        ),
        BadFile(
            name: "a variant name that starts with a dash",
            json: #"{"active": true, "variants": {"-a": "x", "b": "y"}, "defaultVariant": "b", "rules": []}"#,
            pointer: "/variants/-a",
            message: #"invalid variant name "-a""#,
            hint: "a variant name starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'"
        ),
        BadFile(
            name: "a variant name with a slash, escaped in the pointer",
            json: #"{"active": true, "variants": {"a/b": "x", "b": "y"}, "defaultVariant": "b", "rules": []}"#,
            pointer: "/variants/a~1b",
            message: #"invalid variant name "a/b""#,
            hint: "a variant name starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'"
        ),
        BadFile(
            name: "a variant name of 65 characters",
            json: #"{"active": true, "variants": {"\#(String(repeating: "a", count: 65))": "x", "b": "y"}, "defaultVariant": "b", "rules": []}"#,
            pointer: "/variants/" + String(repeating: "a", count: 65),
            message: #"invalid variant name "\#(String(repeating: "a", count: 65))""#,
            hint: "a variant name starts with a letter or digit and has at most 64 letters, digits, '.', '_' or '-'"
        ),
        BadFile(
            name: "serve is not a string",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [], "serve": 1}]}"#,
            pointer: "/rules/0/serve",
            message: #""serve" must be a variant name (a string), not a number"#
        ),
        BadFile(
            name: "a group without when",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"serve": "classic"}]}"#,
            pointer: "/rules/0",
            message: #"missing required key "when""#,
            hint: #"add "when": [] to match everybody, or the rules that must all be true"#
        ),
        BadFile(
            name: "a rule where a group belongs",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"type": "everybody", "when": [], "serve": "classic"}]}"#,
            pointer: "/rules/0/type",
            message: #"unknown key "type""#,
            hint: #"a typed flag's group holds its rules in "when": {"when": [rule], "serve": "name"}"#
        ),
        BadFile(
            name: "a misspelt group key",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [], "serv": "classic", "serve": "classic"}]}"#,
            pointer: "/rules/0/serv",
            message: #"unknown key "serv""#,
            hint: #"did you mean "serve"?"#
        ),
        BadFile(
            name: "a bad rule inside when",
            json:
                #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "=", "comparator": "x"}], "serve": "classic"}]}"#,
            pointer: "/rules/0/when/0/operator",
            message: #"unknown operator "=""#,
            hint: #"use "==""#
        ),
        BadFile(
            name: "a split without attribute",
            json:
                #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [], "split": {"variants": [{"variant": "classic", "percentage": 100}]}}]}"#,
            pointer: "/rules/0/split",
            message: #"missing required key "attribute""#
        ),
        BadFile(
            name: "a split that names a variant twice",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "classic", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}
                ]}
                """#,
            pointer: "/rules/0/split/variants/1/variant",
            message: #"variant "classic" appears twice in the split"#,
            hint: "give each variant one share"
        ),
        BadFile(
            name: "a split share with three decimals",
            json: #"""
                {"active": true, \#(variants), "defaultVariant": "classic", "rules": [
                  {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "classic", "percentage": 50.005}, {"variant": "compact", "percentage": 49.995}]}}
                ]}
                """#,
            pointer: "/rules/0/split/variants/0/percentage",
            message: #""percentage" may have at most two decimals, not 50.005"#
        ),
        BadFile(
            name: "an empty split",
            json:
                #"{"active": true, \#(variants), "defaultVariant": "classic", "rules": [{"when": [], "split": {"attribute": "userId", "variants": []}}]}"#,
            pointer: "/rules/0/split/variants",
            message: #"the split's "variants" must be a non-empty array of {"variant", "percentage"}, not an array"#
        ),
        BadFile(
            name: "matchRules with variants",
            json: #"{"active": true, \#(variants), "defaultVariant": "classic", "matchRules": "ALL", "rules": []}"#,
            pointer: "/matchRules",
            message: #""matchRules" is not allowed with "variants""#
        ),
    ]

    @Test(arguments: badFiles)
    func rejectsWithPointerAndHint(_ bad: BadFile) {
        let result = Fixtures.decode(bad.json)
        #expect(result.flag == nil)
        let match = result.errors.first { $0.pointer == bad.pointer && $0.message == bad.message }
        #expect(match != nil, "expected \(bad.pointer): \(bad.message); got \(result.errors.map(\.description))")
        if let match, let hint = bad.hint {
            #expect(match.hint == hint)
        }
        #expect(result.errors.allSatisfy { $0.file == Fixtures.file })
    }

    @Test func everyErrorOfAFileComesAtOnce() {
        let result = Fixtures.decode(
            #"""
            {
              "active": true,
              "baseState": false,
              "variants": {"a": "x", "b": 2, "c": null, "-d": "y"},
              "defaultVariant": "z",
              "rules": [
                [{"type": "everybody"}],
                {"when": [], "serve": "a", "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 100}]}},
                {"when": []},
                {"when": [], "serve": "nope"},
                {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 60}, {"variant": "b", "percentage": 30}]}},
                {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 50}, {"variant": "q", "percentage": 50}]}}
              ]
            }
            """#
        )
        #expect(result.flag == nil)
        let pointers = Set(result.errors.map(\.pointer))
        let expected: Set<String> = [
            "/baseState", "/variants/b", "/variants/c", "/variants/-d", "/defaultVariant", "/rules/0", "/rules/1", "/rules/2",
            "/rules/3/serve", "/rules/4/split/variants", "/rules/5/split/variants/1/variant",
        ]
        #expect(expected.isSubset(of: pointers), "missing: \(expected.subtracting(pointers)); got \(result.errors.map(\.description))")
    }

    @Test func unknownVariantNamesAreReportedEvenWhenAVariantValueIsBad() {
        let result = Fixtures.decode(
            #"{"active": true, "variants": {"a": "x", "b": 1}, "defaultVariant": "c", "rules": [{"when": [], "serve": "d"}]}"#
        )
        let pointers = result.errors.map(\.pointer)
        #expect(pointers.contains("/variants/b"))
        #expect(pointers.contains("/defaultVariant"))
        #expect(pointers.contains("/rules/0/serve"))
    }

    @Test(arguments: [1, 2, 63, 64])
    func acceptsOneToSixtyFourVariants(_ count: Int) throws {
        let members = (0..<count).map { #""v\#($0)": \#($0)"# }.joined(separator: ", ")
        let flag = Fixtures.flag(#"{"active": true, "variants": {\#(members)}, "defaultVariant": "v0", "rules": []}"#)
        guard case .typed(let variants, let defaultVariant, let groups) = flag.targeting else {
            Issue.record("not a typed flag")
            return
        }
        #expect(variants.names.count == count)
        #expect(variants.kind == .number)
        #expect(defaultVariant == "v0")
        #expect(groups.isEmpty)
    }

    @Test func rejectsSixtyFiveVariants() {
        let members = (0..<65).map { #""v\#($0)": \#($0)"# }.joined(separator: ", ")
        let result = Fixtures.decode(#"{"active": true, "variants": {\#(members)}, "defaultVariant": "v0", "rules": []}"#)
        #expect(result.flag == nil)
        #expect(result.errors.map(\.message) == [#""variants" has 65 variants; at most 64 are allowed"#])
        #expect(result.errors.first?.pointer == "/variants")
    }

    @Test(arguments: ["a", "A", "0", "one-page", "v1.2_beta-3", String(repeating: "x", count: 64)])
    func acceptsVariantNames(_ name: String) {
        let flag = Fixtures.flag(#"{"active": true, "variants": {"\#(name)": "x"}, "defaultVariant": "\#(name)", "rules": []}"#)
        #expect(flag.evaluate([:]).variant == name)
    }

    @Test(arguments: ["", "-a", ".a", "_a", "a b", "ä", "a/b", "a~b", String(repeating: "x", count: 65)])
    func rejectsVariantNames(_ name: String) {
        let result = Fixtures.decode(#"{"active": true, "variants": {"\#(name)": "x", "ok": "y"}, "defaultVariant": "ok", "rules": []}"#)
        #expect(result.flag == nil)
        #expect(result.errors.contains { $0.message == "invalid variant name \"\(name)\"" }, "\(result.errors)")
    }

    @Test func arraysAndObjectsAreOneKind() {
        let flag = Fixtures.flag(#"{"active": true, "variants": {"list": [1, 2], "config": {"a": 1}}, "defaultVariant": "list", "rules": []}"#)
        guard case .typed(let variants, _, _) = flag.targeting else {
            Issue.record("not a typed flag")
            return
        }
        #expect(variants.kind == .object)
        #expect(flag.evaluate([:]).value == [1, 2])
    }

    @Test func decodesGroupsInOrder() throws {
        let flag = Fixtures.flag(
            #"""
            {"name": "Checkout layout", "active": true,
             "variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"},
             "defaultVariant": "classic",
             "rules": [
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
               {"when": [{"type": "filter", "attribute": "country", "operator": "in", "comparator": "NL, BE"}],
                "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 33.33}, {"variant": "classic", "percentage": 66.67}]}}
             ]}
            """#,
            id: "checkout-layout"
        )
        #expect(flag.isTyped)
        #expect(flag.groupCount == 2)
        #expect(flag.baseState == false)
        #expect(flag.rules.isEmpty)
        guard case .typed(_, let defaultVariant, let groups) = flag.targeting else {
            Issue.record("not a typed flag")
            return
        }
        #expect(defaultVariant == "classic")
        #expect(groups[0] == RuleGroup(when: [.filter(attribute: "plan", operator: .equal, comparator: "enterprise")], serve: "one-page"))
        let split = Split(
            attribute: "userId",
            allocations: [Split.Allocation(variant: "compact", basisPoints: 3333), Split.Allocation(variant: "classic", basisPoints: 6667)]
        )
        #expect(groups[1].outcome == .split(split))
        #expect(split.allocations.map(\.percentage) == [33.33, 66.67])
    }

    @Test func aSemaphoreRolloutInsideWhenWarnsAsInABooleanFlag() {
        let result = Fixtures.decode(
            #"{"active": true, "variants": {"a": 1, "b": 2}, "defaultVariant": "a", "rules": [{"when": [{"type": "%", "percentage": 10}], "serve": "b"}]}"#
        )
        #expect(result.flag != nil)
        #expect(result.warnings.map(\.pointer) == ["/rules/0/when/0"])
    }

    @Test func normalizedFormDecodesToTheSameFlag() throws {
        let flag = Fixtures.flag(
            #"""
            {"active": true, "description": "d", "metadata": {"owner": "me"},
             "variants": {"small": 10, "big": 10.0, "huge": 9007199254740993},
             "defaultVariant": "small",
             "rules": [
               {"when": [{"type": "%", "percentage": 12.5, "attribute": "userId"}], "serve": "huge"},
               {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "small", "percentage": 50}, {"variant": "big", "percentage": 50}]}}
             ]}
            """#,
            id: "page-size"
        )
        let normalized = flag.normalizedJSON
        #expect(normalized.objectValue?["baseState"] == nil)
        #expect(normalized.objectValue?["defaultVariant"] == "small")
        let again = FlagDecoder.decode(normalized: normalized, id: "other", source: "https://example.com/flags")
        #expect(again.diagnostics.isEmpty, "\(again.diagnostics)")
        let reread = try #require(again.flag)
        #expect(reread == flag)
        #expect(reread.id == "page-size")
        guard case .object(var members) = normalized else { return }
        members["id"] = nil
        let text = try #require(FlagDecoder.decode(JSONValue.object(members).jsonText, id: "page-size", file: Fixtures.file).flag)
        #expect(text == flag)
    }
}
