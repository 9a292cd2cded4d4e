import HalyardRules
import Testing

/// `Flag.resolve` is the allocation-free form of `Flag.evaluate` that the routes and the client use: the two must agree.
struct ResolutionTests {
    @Test func resolveAgreesWithEvaluateForBooleanAndTypedFlags() {
        let flags = [
            Fixtures.flag(#"{"active": true, "baseState": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}]]}"#),
            Fixtures.flag(#"{"active": false, "rules": [[]]}"#),
            Fixtures.flag(#"{"active": true, "rules": []}"#),
            Fixtures.flag(
                #"""
                {"active": true, "variants": {"a": 1, "b": 2.50, "c": 3}, "defaultVariant": "c", "rules": [
                  {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}], "serve": "a"},
                  {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "b", "percentage": 50}, {"variant": "c", "percentage": 50}]}}
                ]}
                """#),
        ]
        let contexts: [EvaluationContext] = [[:], ["plan": "pro"], ["plan": "free", "userId": "u-1"], ["userId": "u-2"], ["userId": 7]]
        for flag in flags {
            for context in contexts {
                let evaluation = flag.evaluate(context)
                let resolution = flag.resolve(context)
                #expect(flag.value(of: resolution) == evaluation.value)
                #expect(flag.variant(of: resolution) == evaluation.variant)
                #expect(resolution.reason == evaluation.reason)
                #expect(resolution.matchedGroup == evaluation.matchedGroup)
                if !flag.isTyped { #expect(flag.bool(of: resolution) == evaluation.boolValue) }
            }
        }
    }
}
