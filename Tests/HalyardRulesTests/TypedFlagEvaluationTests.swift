import HalyardRules
import Testing

/// DESIGN §2 for typed flags: value, variant and reason; the first matching group; splits that are sticky and fall
/// through when the user lacks their attribute.
struct TypedFlagEvaluationTests {
    static let enterprise = Rule.filter(attribute: "plan", operator: .equal, comparator: "enterprise")
    static let benelux = Rule.filter(attribute: "country", operator: .in, comparator: "NL, BE")
    static let layouts = Variants(["classic": "classic", "one-page": "one-page", "compact": "compact"])

    /// The checkout-layout flag of DESIGN §1: enterprise gets one-page, NL and BE split 50/50, everybody else classic.
    static func layout(id: String = "checkout-layout", active: Bool = true, compact: Int = 5000, groups extra: [RuleGroup] = []) -> Flag {
        let split = Split(
            attribute: "userId",
            allocations: [
                Split.Allocation(variant: "compact", basisPoints: compact), Split.Allocation(variant: "classic", basisPoints: 10_000 - compact),
            ]
        )
        return Flag(
            id: id,
            active: active,
            variants: layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [enterprise], serve: "one-page"), RuleGroup(when: [benelux], split: split)] + extra
        )
    }

    static func split(_ shares: [(String, Int)], attribute: String = "userId") -> Split {
        Split(attribute: attribute, allocations: shares.map { Split.Allocation(variant: $0.0, basisPoints: $0.1) })
    }

    // MARK: - Reasons

    @Test func disabledServesTheDefaultVariant() {
        let evaluation = Self.layout(active: false).evaluate(["plan": "enterprise"])
        #expect(evaluation == Evaluation(value: "classic", variant: "classic", reason: .disabled))
        #expect(evaluation.matchedGroup == nil)
    }

    @Test func noGroupsIsStatic() {
        let flag = Flag(id: "f", active: true, variants: Self.layouts, defaultVariant: "compact", groups: [])
        #expect(flag.evaluate(["plan": "enterprise"]) == Evaluation(value: "compact", variant: "compact", reason: .staticValue))
        let inactive = Flag(id: "f", active: false, variants: Self.layouts, defaultVariant: "compact", groups: [])
        #expect(inactive.evaluate([:]).reason == .disabled)
    }

    @Test func servingGroupIsTargetingMatch() {
        let evaluation = Self.layout().evaluate(["plan": "Enterprise", "country": "NL", "userId": "u-1"])
        #expect(evaluation == Evaluation(value: "one-page", variant: "one-page", reason: .targetingMatch, matchedGroup: 0))
    }

    @Test func splitGroupIsSplit() {
        let evaluation = Self.layout().evaluate(["country": "BE", "userId": "u-1"])
        #expect(evaluation.reason == .split)
        #expect(evaluation.matchedGroup == 1)
        #expect(["compact", "classic"].contains(evaluation.variant))
        #expect(evaluation.value == .string(evaluation.variant ?? ""))
    }

    @Test func noMatchIsDefault() {
        #expect(Self.layout().evaluate(["plan": "free", "country": "FR"]) == Evaluation(value: "classic", variant: "classic", reason: .default))
    }

    @Test func unknownFlagIsFlagNotFound() {
        #expect(Evaluation.flagNotFound == Evaluation(value: false, variant: nil, reason: .flagNotFound))
        #expect(Evaluation.flagNotFound.reason.rawValue == "FLAG_NOT_FOUND")
    }

    @Test func reasonNamesAreOpenFeatures() {
        let names: [Evaluation.Reason: String] = [
            .disabled: "DISABLED", .staticValue: "STATIC", .targetingMatch: "TARGETING_MATCH", .split: "SPLIT", .default: "DEFAULT",
        ]
        for (reason, name) in names { #expect(reason.rawValue == name) }
    }

    @Test func booleanFlagsHaveOnAndOffVariants() {
        let flag = Flag(id: "b", active: true, baseState: false, rules: [[Self.enterprise]])
        #expect(flag.evaluate(["plan": "enterprise"]) == Evaluation(value: true, variant: "on", reason: .targetingMatch, matchedGroup: 0))
        #expect(flag.evaluate(["plan": "free"]) == Evaluation(value: false, variant: "off", reason: .default))
        let inverted = Flag(id: "b", active: false, baseState: true, rules: [[.everybody]])
        #expect(inverted.evaluate([:]) == Evaluation(value: true, variant: "off", reason: .disabled))
        let empty = Flag(id: "b", active: true, baseState: true, rules: [])
        #expect(empty.evaluate([:]) == Evaluation(value: true, variant: "off", reason: .staticValue))
    }

    @Test func everybodyGroupOfABooleanFlag() {
        let flag = Flag(id: "b", active: true, rules: [[]])
        #expect(flag.evaluate([:]) == Evaluation(value: true, variant: "on", reason: .targetingMatch, matchedGroup: 0))
    }

    // MARK: - Order and fall-through

    @Test func firstMatchingGroupWins() {
        let flag = Flag(
            id: "f",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [
                RuleGroup(when: [.nobody], serve: "compact"),
                RuleGroup(when: [Self.enterprise], serve: "one-page"),
                RuleGroup(when: [], serve: "compact"),
            ]
        )
        #expect(flag.evaluate(["plan": "enterprise"]) == Evaluation(value: "one-page", variant: "one-page", reason: .targetingMatch, matchedGroup: 1))
        #expect(flag.evaluate(["plan": "free"]) == Evaluation(value: "compact", variant: "compact", reason: .targetingMatch, matchedGroup: 2))
    }

    @Test(arguments: [nil, JSONValue.null, [1, 2], ["id": 1]] as [JSONValue?])
    func splitWithoutItsAttributeFallsThrough(_ userID: JSONValue?) {
        let flag = Flag(
            id: "f",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [
                RuleGroup(when: [], split: Self.split([("compact", 5000), ("one-page", 5000)])),
                RuleGroup(when: [Self.benelux], serve: "one-page"),
            ]
        )
        var attributes: [String: JSONValue] = ["country": "NL", "accountId": "a-1"]
        if let userID { attributes["userId"] = userID }
        #expect(
            flag.evaluate(EvaluationContext(attributes))
                == Evaluation(value: "one-page", variant: "one-page", reason: .targetingMatch, matchedGroup: 1)
        )
        attributes["country"] = "FR"
        #expect(flag.evaluate(EvaluationContext(attributes)) == Evaluation(value: "classic", variant: "classic", reason: .default))
    }

    @Test func splitFallsThroughToTheNextSplit() {
        let flag = Flag(
            id: "f",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [
                RuleGroup(when: [], split: Self.split([("compact", 10_000)])),
                RuleGroup(when: [], split: Self.split([("one-page", 10_000)], attribute: "accountId")),
            ]
        )
        #expect(flag.evaluate(["userId": "u"]).variant == "compact")
        #expect(flag.evaluate(["accountId": "a"]) == Evaluation(value: "one-page", variant: "one-page", reason: .split, matchedGroup: 1))
        #expect(flag.evaluate(["other": "x"]).reason == .default)
    }

    @Test func splitBucketsNumbersAndBooleansAsText() {
        let flag = Flag(
            id: "f",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 5000), ("one-page", 5000)]))]
        )
        for value: JSONValue in [42, 1.5, true, "42"] {
            let bucket = Bucketing.stickyBucket(flagID: "f", value: value)!
            let evaluation = flag.evaluate(EvaluationContext(["userId": value]))
            #expect(evaluation.variant == (bucket < 5000 ? "compact" : "one-page"), "\(value)")
        }
        #expect(flag.evaluate(["userId": 42]) == flag.evaluate(["userId": "42"]))
    }

    // MARK: - Sticky splits

    @Test func splitUsesTheStickyBucketRanges() {
        let flag = Flag(
            id: "exp",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 2000), ("classic", 3000), ("one-page", 5000)]))]
        )
        for index in 0..<2_000 {
            let user: JSONValue = .string("user-\(index)")
            let bucket = Bucketing.stickyBucket(flagID: "exp", value: user)!
            let expected = bucket < 2000 ? "compact" : bucket < 5000 ? "classic" : "one-page"
            #expect(flag.evaluate(EvaluationContext(["userId": user])).variant == expected)
        }
    }

    @Test func sameUserSameVariantInEveryEnvironment() {
        // Two environments hold two flags with the same id; the split's group sits at another index in each.
        let production = Self.layout()
        let staging = Flag(
            id: "checkout-layout",
            active: true,
            variants: Self.layouts,
            defaultVariant: "compact",
            groups: [RuleGroup(when: [.nobody], serve: "one-page"), RuleGroup(when: [], split: Self.split([("compact", 5000), ("classic", 5000)]))]
        )
        let elsewhere = Flag(
            id: "other-flag",
            active: true,
            variants: Self.layouts,
            defaultVariant: "compact",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 5000), ("classic", 5000)]))]
        )
        var differs = 0
        for index in 0..<1_000 {
            let user = EvaluationContext(["userId": .string("user-\(index)"), "country": "NL"])
            #expect(production.evaluate(user).variant == staging.evaluate(user).variant)
            if production.evaluate(user).variant != elsewhere.evaluate(user).variant { differs += 1 }
        }
        // Another flag id buckets independently: about half the users differ.
        #expect((400...600).contains(differs))
    }

    @Test func raisingOneShareMovesOnlyTheUsersInBetween() {
        let before = Flag(
            id: "exp",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 3000), ("classic", 3000), ("one-page", 4000)]))]
        )
        let after = Flag(
            id: "exp",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 4000), ("classic", 2000), ("one-page", 4000)]))]
        )
        var moved = 0
        for index in 0..<10_000 {
            let user: JSONValue = .string("user-\(index)")
            let context = EvaluationContext(["userId": user])
            let old = before.evaluate(context).variant
            let new = after.evaluate(context).variant
            guard old != new else { continue }
            moved += 1
            let bucket = Bucketing.stickyBucket(flagID: "exp", value: user)!
            #expect(old == "classic" && new == "compact", "user-\(index) moved from \(old ?? "-") to \(new ?? "-")")
            #expect((3000..<4000).contains(bucket))
        }
        // A tenth of the buckets moved: about 1,000 users.
        #expect((850...1150).contains(moved))
    }

    @Test func raisingTheFiftyFiftySplitMovesOnlyOneWay() {
        let before = Self.layout(compact: 5000)
        let after = Self.layout(compact: 7000)
        for index in 0..<5_000 {
            let context = EvaluationContext(["userId": .string("u\(index)"), "country": "BE"])
            let old = before.evaluate(context).variant
            let new = after.evaluate(context).variant
            if old != new { #expect(old == "classic" && new == "compact") }
            if old == "compact" { #expect(new == "compact") }
        }
    }

    @Test func threeWaySplitDistributionIsWithinOnePercentagePoint() {
        let flag = Flag(
            id: "checkout-layout",
            active: true,
            variants: Self.layouts,
            defaultVariant: "classic",
            groups: [RuleGroup(when: [], split: Self.split([("compact", 5000), ("classic", 3000), ("one-page", 2000)]))]
        )
        var counts: [String: Int] = [:]
        for index in 0..<10_000 {
            let evaluation = flag.evaluate(EvaluationContext(["userId": .string("user-\(index)")]))
            #expect(evaluation.reason == .split)
            counts[evaluation.variant ?? "none", default: 0] += 1
        }
        for (variant, expected) in [("compact", 5000), ("classic", 3000), ("one-page", 2000)] {
            let count = counts[variant] ?? 0
            #expect(abs(count - expected) <= 100, "\(variant): \(count) of 10,000, expected \(expected) ± 100")
        }
    }

    // MARK: - Values

    @Test func servesValuesExactlyAsWritten() throws {
        let flag = Fixtures.flag(
            #"""
            {"active": true,
             "variants": {"int": 10, "float": 10.0, "max-int": 2147483647, "max-safe": 9007199254740991, "past-safe": 9007199254740993},
             "defaultVariant": "int",
             "rules": [{"when": [{"type": "filter", "attribute": "v", "operator": "in", "comparator": "float"}], "serve": "float"},
                       {"when": [{"type": "filter", "attribute": "v", "operator": "in", "comparator": "max-int"}], "serve": "max-int"},
                       {"when": [{"type": "filter", "attribute": "v", "operator": "in", "comparator": "max-safe"}], "serve": "max-safe"},
                       {"when": [{"type": "filter", "attribute": "v", "operator": "in", "comparator": "past-safe"}], "serve": "past-safe"}]}
            """#
        )
        let texts = ["int": "10", "float": "10.0", "max-int": "2147483647", "max-safe": "9007199254740991", "past-safe": "9007199254740993"]
        for (variant, text) in texts {
            let evaluation = flag.evaluate(EvaluationContext(["v": .string(variant)]))
            #expect(evaluation.variant == variant)
            #expect(evaluation.value.jsonText == text)
        }
    }

    @Test func servesObjectsAndBooleans() {
        let config = Fixtures.flag(
            #"{"active": true, "variants": {"small": {"rows": 10, "dense": false}, "big": {"rows": 50}}, "defaultVariant": "small", "rules": [{"when": [], "serve": "big"}]}"#
        )
        #expect(config.evaluate([:]).value == ["rows": 50])
        let toggle = Fixtures.flag(#"{"active": false, "variants": {"yes": true, "no": false}, "defaultVariant": "no", "rules": []}"#)
        #expect(toggle.evaluate([:]) == Evaluation(value: false, variant: "no", reason: .disabled))
    }
}
