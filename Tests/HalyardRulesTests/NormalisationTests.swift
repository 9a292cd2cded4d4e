import HalyardRules
import Testing

/// DESIGN §4: what counts as the same flag, and the normalised form of the HTTP API.
struct NormalisationTests {
    private let canonical = #"""
        {"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"},
                                    {"type": "%", "percentage": 25, "attribute": "userId"}]]}
        """#

    @Test func reformattingAndKeyOrderDoNotChangeTargeting() {
        let reordered = #"""
            {
                "rules": [
                    [
                        { "comparator": "pro", "operator": "==", "attribute": "plan", "type": "filter" },
                        { "attribute": "userId", "percentage": 25.00, "type": "%" }
                    ]
                ],
                "active": true
            }
            """#
        let lhs = Fixtures.flag(canonical)
        let rhs = Fixtures.flag(reordered)
        #expect(lhs.hasSameTargeting(as: rhs))
        #expect(lhs.hasSameDescriptiveFields(as: rhs))
        #expect(lhs == rhs)
        #expect(lhs.normalizedJSON.jsonText == rhs.normalizedJSON.jsonText)
    }

    @Test func aComparatorNumberWrittenAsAFloatIsTheSameRule() {
        let integer = Fixtures.flag(#"{"active": true, "rules": [[{"type": "filter", "attribute": "age", "operator": ">=", "comparator": 18}]]}"#)
        let float = Fixtures.flag(#"{"active": true, "rules": [[{"type": "filter", "attribute": "age", "operator": ">=", "comparator": 18.0}]]}"#)
        let list = Fixtures.flag(#"{"active": true, "rules": [[{"type": "filter", "attribute": "age", "operator": "in", "comparator": [1.50, 2]}]]}"#)
        #expect(integer.hasSameTargeting(as: float))
        #expect(float.normalizedJSON.jsonText == integer.normalizedJSON.jsonText)
        #expect(list.normalizedJSON.jsonText.contains("[1.5,2]"))
    }

    @Test func explicitDefaultsEqualOmittedOnes() {
        let explicit = Fixtures.flag(#"{"name": "test-flag", "description": "", "active": true, "baseState": false, "rules": [], "metadata": {}}"#)
        let omitted = Fixtures.flag(#"{"active": true, "rules": []}"#)
        #expect(explicit == omitted)
        #expect(explicit.name == "test-flag")
        #expect(explicit.normalizedJSON == omitted.normalizedJSON)
    }

    @Test func version02AllBecomesOneGroup() {
        let result = Fixtures.decode(
            #"""
            {"active": true, "matchRules": "ALL", "rules": [
                {"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"},
                {"type": "%", "percentage": 25, "attribute": "userId"}]}
            """#)
        #expect(!result.hasErrors)
        #expect(result.warnings.map(\.pointer) == ["/matchRules"])
        #expect(result.warnings.first?.message == #""matchRules" and the flat 0.2 "rules" array are deprecated"#)
        #expect(result.flag?.hasSameTargeting(as: Fixtures.flag(canonical)) == true)
    }

    @Test func version02AnyBecomesOneGroupPerRule() {
        let any = Fixtures.decode(#"{"active": true, "matchRules": "ANY", "rules": [{"type": "nobody"}, {"type": "everybody"}]}"#)
        let absent = Fixtures.decode(#"{"active": true, "rules": [{"type": "nobody"}, {"type": "everybody"}]}"#)
        let grouped = Fixtures.flag(#"{"active": true, "rules": [[{"type": "nobody"}], [{"type": "everybody"}]]}"#)
        #expect(any.flag?.hasSameTargeting(as: grouped) == true)
        #expect(absent.flag?.hasSameTargeting(as: grouped) == true)
        #expect(absent.warnings.map(\.pointer) == ["/rules"])
        #expect(absent.flag?.evaluate([:]) == Evaluation(value: .bool(true), variant: "on", reason: .targetingMatch, matchedGroup: 1))
    }

    @Test func version02EmptyRules() {
        // An empty ALL is true for everybody; an empty ANY selects nobody; an empty array alone is the 1.0 "nobody".
        let all = Fixtures.decode(#"{"active": true, "matchRules": "ALL", "rules": []}"#)
        #expect(all.flag?.rules == [[]])
        #expect(all.flag?.evaluate([:]).value == true)
        #expect(all.warnings.count == 1)
        let any = Fixtures.decode(#"{"active": true, "matchRules": "ANY", "rules": []}"#)
        #expect(any.flag?.rules == [])
        #expect(any.flag?.evaluate([:]).value == false)
        let plain = Fixtures.decode(#"{"active": true, "rules": []}"#)
        #expect(plain.flag?.rules == [])
        #expect(plain.diagnostics.isEmpty)
    }

    @Test func targetingChangesAreDetected() {
        let base = Fixtures.flag(canonical)
        #expect(!base.hasSameTargeting(as: Fixtures.flag(canonical.replacing("25", with: "26"))))
        #expect(!base.hasSameTargeting(as: Fixtures.flag(canonical.replacing(#""active": true"#, with: #""active": false"#))))
        #expect(!base.hasSameTargeting(as: Fixtures.flag(canonical.replacing(#""active": true"#, with: #""active": true, "baseState": true"#))))
        #expect(!base.hasSameTargeting(as: Fixtures.flag(canonical.replacing(#""pro""#, with: #""Pro""#))))
    }

    @Test func descriptiveChangesAreSeparate() {
        let base = Fixtures.flag(canonical)
        let renamed = Fixtures.flag(canonical.replacing(#""active": true"#, with: #""active": true, "name": "Shiny", "metadata": {"a": 1}"#))
        #expect(base.hasSameTargeting(as: renamed))
        #expect(!base.hasSameDescriptiveFields(as: renamed))
        #expect(base != renamed)
    }

    @Test func normalizedJSON() {
        let flag = Fixtures.flag(
            #"""
            {"active": true, "description": "d", "metadata": {"owner": "team"},
             "rules": [{"type": "%", "percentage": 12.50, "attribute": "userId"},
                       {"type": "filter", "attribute": "a", "operator": "in", "comparator": [1, "x"]}]}
            """#, id: "new-checkout")
        #expect(
            flag.normalizedJSON.jsonText
                == #"{"active":true,"baseState":false,"description":"d","id":"new-checkout","metadata":{"owner":"team"},"name":"new-checkout","#
                + #""rules":[[{"attribute":"userId","percentage":12.5,"type":"%"}],"#
                + #"[{"attribute":"a","comparator":[1,"x"],"operator":"in","type":"filter"}]]}"#
        )
        let whole = Fixtures.flag(#"{"active": false, "rules": [[{"type": "%", "percentage": 25}, {"type": "everybody"}, {"type": "nobody"}]]}"#)
        #expect(whole.normalizedJSON["rules"] == [[["type": "%", "percentage": 25], ["type": "everybody"], ["type": "nobody"]]])
    }

    @Test func normalisedJSONDecodesToTheSameFlag() {
        let flag = Fixtures.flag(#"{"active": true, "matchRules": "ALL", "rules": [{"type": "%", "percentage": 0.05, "attribute": "u"}]}"#)
        guard case .object(var members) = flag.normalizedJSON else {
            Issue.record("not an object")
            return
        }
        members["id"] = nil
        let again = Fixtures.flag(JSONValue.object(members).jsonText)
        #expect(again == flag)
    }
}
