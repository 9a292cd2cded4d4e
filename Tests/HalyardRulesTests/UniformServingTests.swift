import HalyardRules
import Testing

/// `Flag.uniformServing`: which flags serve one value to everybody, what value, and why (DESIGN §14).
struct UniformServingTests {
    private static let plan = #"{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}"#

    private static func uniform(_ json: String) -> UniformServing? {
        Fixtures.flag(json).uniformServing
    }

    @Test func testBooleanFlagsThatServeOneValue() {
        #expect(Self.uniform(#"{"active": false, "baseState": true, "rules": [[\#(Self.plan)]]}"#) == UniformServing(reason: .inactive, value: true, variant: nil))
        #expect(Self.uniform(#"{"active": true, "rules": []}"#) == UniformServing(reason: .nobodySelected, value: false, variant: nil))
        #expect(Self.uniform(#"{"active": true, "rules": [[]]}"#) == UniformServing(reason: .everybodySelected, value: true, variant: nil))
        #expect(Self.uniform(#"{"active": true, "rules": [[\#(Self.plan)], [{"type": "everybody"}]]}"#)?.reason == .everybodySelected)
        #expect(
            Self.uniform(#"{"active": true, "baseState": true, "rules": [[{"type": "%", "percentage": 100, "attribute": "userId"}]]}"#)
                == UniformServing(reason: .everybodySelected, value: false, variant: nil))
        #expect(Self.uniform(#"{"active": true, "rules": [[{"type": "%", "percentage": 100}]]}"#)?.reason == .everybodySelected)
        #expect(
            Self.uniform(#"{"active": true, "rules": [[{"type": "nobody"}], [\#(Self.plan), {"type": "%", "percentage": 0, "attribute": "userId"}]]}"#)?.reason
                == .nobodySelected)
    }

    @Test func testBooleanFlagsThatDependOnTheUser() {
        #expect(Self.uniform(#"{"active": true, "rules": [[\#(Self.plan)]]}"#) == nil)
        #expect(Self.uniform(#"{"active": true, "rules": [[{"type": "%", "percentage": 99.99, "attribute": "userId"}]]}"#) == nil)
        // Semaphore's unsticky 0 % can still match a bucket of exactly 0.
        #expect(Self.uniform(#"{"active": true, "rules": [[{"type": "%", "percentage": 0}]]}"#) == nil)
        #expect(Self.uniform(#"{"active": true, "rules": [[\#(Self.plan), {"type": "everybody"}]]}"#) == nil)
        #expect(!Fixtures.flag(#"{"active": true, "rules": [[\#(Self.plan)]]}"#).servesOneValueToEverybody)
    }

    private static func typed(active: Bool = true, defaultVariant: String = "classic", rules: String) -> String {
        #"{"active": \#(active), "variants": {"classic": "c", "one-page": "p"}, "defaultVariant": "\#(defaultVariant)", "rules": \#(rules)}"#
    }

    @Test func testTypedFlagsThatServeOneValue() {
        #expect(Self.uniform(Self.typed(active: false, rules: #"[{"when": [], "serve": "one-page"}]"#)) == UniformServing(reason: .inactive, value: "c", variant: "classic"))
        #expect(Self.uniform(Self.typed(rules: "[]")) == UniformServing(reason: .noGroups, value: "c", variant: "classic"))
        #expect(
            Self.uniform(Self.typed(rules: #"[{"when": [], "serve": "one-page"}, {"when": [\#(Self.plan)], "serve": "classic"}]"#))
                == UniformServing(reason: .everybodySelected, value: "p", variant: "one-page"))
        #expect(Self.uniform(Self.typed(rules: #"[{"when": [\#(Self.plan)], "serve": "classic"}]"#))?.reason == .oneVariant)
        #expect(Self.uniform(Self.typed(rules: #"[{"when": [{"type": "nobody"}], "serve": "one-page"}]"#))?.reason == .nobodySelected)
        let finishedSplit = #"[{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "one-page", "percentage": 100}, {"variant": "classic", "percentage": 0}]}}]"#
        #expect(Self.uniform(Self.typed(rules: finishedSplit))?.variant == "one-page")
    }

    @Test func testTypedFlagsThatDependOnTheUser() {
        #expect(Self.uniform(Self.typed(rules: #"[{"when": [\#(Self.plan)], "serve": "one-page"}]"#)) == nil)
        let split = #"[{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "one-page", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}]"#
        #expect(Self.uniform(Self.typed(rules: split)) == nil)
        #expect(Self.uniform(Self.typed(rules: #"[{"when": [\#(Self.plan)], "serve": "one-page"}, {"when": [], "serve": "classic"}]"#)) == nil)
    }
}
