import HalyardRules
import Testing

/// DESIGN §2 `value(flag, user)`: active, baseState, groups, reasons.
struct EvaluationTests {
    private let enterprise = Rule.filter(attribute: "plan", operator: .equal, comparator: "enterprise")
    private let german = Rule.filter(attribute: "country", operator: .equal, comparator: "de")

    @Test func emptyRulesSelectNobodyWithReasonStatic() {
        let flag = Fixtures.flag(#"{"active": true, "rules": []}"#)
        #expect(flag.evaluate(["plan": "enterprise"]) == Evaluation(value: .bool(false), variant: "off", reason: .staticValue))
    }

    @Test func anEmptyGroupSelectsEverybody() {
        let flag = Fixtures.flag(#"{"active": true, "rules": [[]]}"#)
        #expect(flag.evaluate([:]) == Evaluation(value: .bool(true), variant: "on", reason: .targetingMatch, matchedGroup: 0))
    }

    @Test func everybodyAndNobody() {
        #expect(Fixtures.selects(.everybody, [:]))
        #expect(Fixtures.selects(.nobody, [:]) == false)
        let flag = Flag(id: "f", active: true, rules: [[.everybody, .nobody], [.nobody], [.everybody]])
        #expect(flag.evaluate([:]).matchedGroup == 2)
    }

    @Test(arguments: [false, true])
    func inactiveFlagsGiveBaseState(_ baseState: Bool) {
        let flag = Flag(id: "f", active: false, baseState: baseState, rules: [[.everybody]])
        #expect(flag.evaluate([:]) == Evaluation(value: .bool(baseState), variant: "off", reason: .disabled))
    }

    @Test func baseStateTrueInvertsTheSelection() {
        let flag = Fixtures.flag(
            #"""
            {"active": true, "baseState": true,
             "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "free"}]]}
            """#)
        #expect(flag.evaluate(["plan": "free"]) == Evaluation(value: .bool(false), variant: "on", reason: .targetingMatch, matchedGroup: 0))
        #expect(flag.evaluate(["plan": "pro"]) == Evaluation(value: .bool(true), variant: "off", reason: .default))
        #expect(flag.evaluate([:]) == Evaluation(value: .bool(true), variant: "off", reason: .default))
    }

    @Test func groupsAreOrAndRulesInsideAreAnd() {
        let flag = Flag(id: "f", active: true, rules: [[enterprise, german], [.filter(attribute: "beta", operator: .equal, comparator: true)]])
        #expect(flag.evaluate(["plan": "enterprise", "country": "DE"]) == Evaluation(value: .bool(true), variant: "on", reason: .targetingMatch, matchedGroup: 0))
        #expect(flag.evaluate(["plan": "enterprise", "country": "fr"]).value == false)
        #expect(flag.evaluate(["plan": "free", "beta": true]) == Evaluation(value: .bool(true), variant: "on", reason: .targetingMatch, matchedGroup: 1))
        #expect(flag.evaluate(["plan": "enterprise", "country": "de", "beta": true]).matchedGroup == 0)
        #expect(flag.evaluate(["beta": "TRUE"]).matchedGroup == 1)
    }

    @Test func theDesignExampleFlag() {
        let flag = Fixtures.flag(
            #"""
            {
              "name": "New checkout",
              "description": "The one-page checkout",
              "active": true,
              "baseState": false,
              "rules": [
                [ { "type": "filter", "attribute": "customer", "operator": "in", "comparator": ["Disney", "Pop Tarts"] } ],
                [ { "type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise" },
                  { "type": "%", "percentage": 25, "attribute": "userId" } ]
              ],
              "metadata": { "owner": "checkout-team", "ticket": "SHOP-123" }
            }
            """#, id: "new-checkout")
        #expect(flag.name == "New checkout")
        #expect(flag.metadata["owner"] == "checkout-team")
        #expect(flag.evaluate(["customer": "pop tarts"]).matchedGroup == 0)
        // Sticky buckets of "new-checkout:<userId>" (checked against Python's mmh3): user-1 → 631, user-2 → 789.
        #expect(flag.evaluate(["plan": "enterprise", "userId": "user-1"]).matchedGroup == 1)
        #expect(flag.evaluate(["plan": "free", "userId": "user-1"]) == Evaluation(value: .bool(false), variant: "off", reason: .default))
        let inside = (0..<200).map { "u\($0)" }.filter { Bucketing.stickyBucket(flagID: "new-checkout", value: .string($0))! < 2500 }
        #expect(!inside.isEmpty)
        for user in inside {
            #expect(flag.evaluate(["plan": "enterprise", "userId": .string(user)]).matchedGroup == 1)
            #expect(flag.evaluate(["plan": "free", "userId": .string(user)]).value == false)
        }
    }

    @Test func unknownFlagEvaluatesToFalse() {
        #expect(Evaluation.flagNotFound.value == false)
        #expect(Evaluation.flagNotFound.reason == .flagNotFound)
        #expect(Evaluation.flagNotFound.reason.rawValue == "FLAG_NOT_FOUND")
        #expect(Evaluation.flagNotFound.matchedGroup == nil)
    }

    @Test func contextsCanBeSharedAcrossFlagsAndTasks() async {
        let flag = Flag(id: "f", active: true, rules: [[.percentage(basisPoints: 5000, attribute: nil)], [enterprise]])
        let context = EvaluationContext(["userId": 1, "plan": "enterprise"])
        let expected = flag.evaluate(context)
        await withTaskGroup(of: Evaluation.self) { group in
            for _ in 0..<8 { group.addTask { flag.evaluate(context) } }
            for await evaluation in group { #expect(evaluation == expected) }
        }
        #expect(context.attributes["plan"] == "enterprise")
    }

    @Test func stickyPercentageRules() {
        let rule = Rule.percentage(basisPoints: 2500, attribute: "userId")
        for user in ["user-1", "user-2", "a", "b", "c"] {
            let bucket = Bucketing.stickyBucket(flagID: "new-checkout", value: .string(user))!
            #expect(Fixtures.selects(rule, flagID: "new-checkout", ["userId": .string(user)]) == (bucket < 2500))
        }
        #expect(Bucketing.stickyBucket(flagID: "new-checkout", value: "user-1") == 631)
        #expect(Bucketing.stickyBucket(flagID: "new-checkout", value: "user-2") == 789)
        #expect(Bucketing.stickyBucket(flagID: "new-checkout", value: 42) == 9673)
        #expect(Bucketing.stickyBucket(flagID: "new-checkout", value: 1.5) == 264)
        #expect(Bucketing.stickyBucket(flagID: "new-checkout", value: true) == 1423)
        // Missing, null, arrays and objects are never in.
        let all = Rule.percentage(basisPoints: 10_000, attribute: "userId")
        #expect(Fixtures.selects(all, ["userId": "x"]))
        #expect(Fixtures.selects(all, [:]) == false)
        #expect(Fixtures.selects(all, ["userId": .null]) == false)
        #expect(Fixtures.selects(all, ["userId": ["x"]]) == false)
        #expect(Fixtures.selects(all, ["userId": ["x": 1]]) == false)
        #expect(Fixtures.selects(.percentage(basisPoints: 0, attribute: "userId"), ["userId": "x"]) == false)
    }

    @Test func stickyNumbersHashInShortestForm() {
        #expect(Bucketing.stickyBucket(flagID: "f", value: 42) == Bucketing.stickyBucket(flagID: "f", value: "42"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: 42.0) == Bucketing.stickyBucket(flagID: "f", value: "42"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: -7) == Bucketing.stickyBucket(flagID: "f", value: "-7"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: 1.5) == Bucketing.stickyBucket(flagID: "f", value: "1.5"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: 1e21) == Bucketing.stickyBucket(flagID: "f", value: "1e+21"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: 123456789012345678) == Bucketing.stickyBucket(flagID: "f", value: "123456789012345680"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: false) == Bucketing.stickyBucket(flagID: "f", value: "false"))
        #expect(Bucketing.stickyBucket(flagID: "f", value: .null) == nil)
    }

    @Test func stickyBucketsAreCaseSensitiveAndPerFlag() {
        let lower = Bucketing.stickyBucket(flagID: "f", value: "alice")
        #expect(lower != Bucketing.stickyBucket(flagID: "f", value: "Alice"))
        #expect(lower != Bucketing.stickyBucket(flagID: "g", value: "alice"))
    }

    @Test func raisingThePercentageOnlyAddsUsers() {
        let users: [JSONValue] = (0..<2000).map { .string("user-\($0)") } + (0..<500).map { .number(JSONNumber(Double($0))) }
        var previous = Set<Int>()
        for percentage in [0, 1, 5, 10, 12.5, 25, 33.33, 50, 75, 99.99, 100] as [Double] {
            let rule = Rule.percentage(basisPoints: Int((percentage * 100).rounded()), attribute: "id")
            let flag = Flag(id: "rollout", active: true, rules: [[rule]])
            let selected = Set(users.indices.filter { flag.evaluate(EvaluationContext(["id": users[$0]])).boolValue })
            #expect(previous.isSubset(of: selected), "raising to \(percentage)% removed users")
            previous = selected
        }
        #expect(previous.count == users.count)
    }

    @Test func stickyBucketsIgnoreOtherAttributes() {
        let flag = Flag(id: "f", active: true, rules: [[.percentage(basisPoints: 5000, attribute: "userId")]])
        for index in 0..<100 {
            let id = JSONValue.string("u\(index)")
            let plain = flag.evaluate(["userId": id]).value
            #expect(flag.evaluate(["userId": id, "plan": "pro", "country": "de"]).value == plain)
        }
    }

    @Test func stickyBucketsSpreadEvenly() {
        let flag = Flag(id: "spread", active: true, rules: [[.percentage(basisPoints: 3000, attribute: "userId")]])
        let selected = (0..<20_000).count { flag.evaluate(EvaluationContext(["userId": .string("user-\($0)")])).boolValue }
        #expect((5_600...6_400).contains(selected))
    }

    @Test func semaphoreRolloutWithoutAttribute() {
        let half = Rule.percentage(basisPoints: 5000, attribute: nil)
        #expect(Fixtures.selects(half, ["userId": 1]))  // bucket 0.2659
        #expect(Fixtures.selects(half, ["userId": 2]) == false)  // bucket 0.6173
        #expect(Fixtures.selects(.percentage(basisPoints: 0, attribute: nil), ["userId": 10068]))  // bucket 0.0000
        #expect(Fixtures.selects(.percentage(basisPoints: 0, attribute: nil), ["userId": 1]) == false)
        #expect(Fixtures.selects(.percentage(basisPoints: 4200, attribute: nil), ["userId": 6559]))  // bucket exactly 0.42
        #expect(Fixtures.selects(.percentage(basisPoints: 4199, attribute: nil), ["userId": 6559]) == false)
        #expect(Fixtures.selects(.percentage(basisPoints: 10_000, attribute: nil), ["userId": 2]))
    }

    @Test func semaphoreRolloutFromAFile() throws {
        let result = Fixtures.decode(#"{"active": true, "rules": [[{"type": "%", "percentage": 50}]]}"#)
        #expect(result.warnings.count == 1)
        let flag = try #require(result.flag)
        #expect(flag.evaluate(["userId": 1]).boolValue)
        #expect(flag.evaluate(["userId": 2]).value == false)
    }
}
