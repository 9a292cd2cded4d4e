import Testing

@testable import HalyardRules

/// What one request's evaluation costs (DESIGN §13): the Semaphore bucket input is built once per context, each
/// percentage hashed once, and `has` scans lists in place, all with results unchanged.
struct EvaluationCostTests {
    /// A flag per percentage, each a Semaphore-compatible `%` rule (no `attribute`).
    static func semaphoreFlags(percentages: [Double]) -> [Flag] {
        percentages.enumerated().map { index, percentage in
            Flag(id: "rollout-\(index)", active: true, rules: [[.percentage(basisPoints: Int((percentage * 100).rounded()), attribute: nil)]])
        }
    }

    @Test func testTheUserIsSerialisedOncePerContextAndEachPercentageHashedOnce() {
        var attributes: [String: JSONValue] = [:]
        for index in 0..<1_000 { attributes["attribute-\(index)"] = .string("value-\(index)") }
        let context = EvaluationContext(attributes)
        #expect(context.table.semaphoreWork == (0, 0))

        // Filter rules never need the serialisation.
        let filter = Flag(id: "filter", active: true, rules: [[.filter(attribute: "attribute-1", operator: .equal, comparator: "value-1")]])
        #expect(filter.evaluate(context).boolValue)
        #expect(context.table.semaphoreWork == (0, 0))

        // 50 flags over 5 distinct percentages: one serialisation, five MD5s.
        let percentages = (0..<50).map { Double([10, 25, 50, 75, 99.5][$0 % 5]) }
        let flags = Self.semaphoreFlags(percentages: percentages)
        let first = flags.map { $0.evaluate(context).value }
        #expect(context.table.semaphoreWork == (1, 5))
        // Evaluating again (another flag list in the same request) costs nothing more.
        let second = flags.map { $0.evaluate(context).value }
        #expect(first == second)
        #expect(context.table.semaphoreWork == (1, 5))

        // The cached buckets are the buckets: the same as the one-shot reference for each percentage.
        for (flag, percentage) in zip(flags, percentages) {
            let bucket = Bucketing.semaphoreBucket(rule: ["type": "%", "percentage": .number(JSONNumber(percentage))], user: attributes)
            #expect(flag.evaluate(context).boolValue == (bucket <= percentage / 100), "\(flag.id)")
        }
    }

    @Test func testSemaphoreResultsAreTheSameWithAFreshContextPerFlag() {
        let users: [[String: JSONValue]] = (0..<40).map { index in
            ["userId": .number(JSONNumber(Double(index))), "email": .string("user\(index)@example.com"), "beta": .bool(index % 3 == 0)]
        }
        let flags = Self.semaphoreFlags(percentages: [1, 12.5, 33.33, 50, 50, 66.67, 99.99])
        for user in users {
            let shared = EvaluationContext(user)
            for flag in flags {
                // A fresh context per flag has no cache to share: it is the reference.
                #expect(flag.evaluate(shared).value == flag.evaluate(EvaluationContext(user)).value)
            }
        }
    }

    /// `has` over comma-separated strings and arrays, scanned in place, against the eager split it replaced.
    @Test(
        arguments: [
            "admin, writer", "pleb,admin", " admin ", "a,,b, ,c", ",", "", "   ", "ADMIN", "Admin,42", "42, 1e3, -0",
            "true, FALSE", "x,TRUE", "É,é", "caf\u{E9}, na\u{EF}ve", "\u{212A}elvin", "a\u{301},b", ",\u{301}x", "1.5 ,  2.50",
            "\u{00A0}admin\u{00A0}", "ab, a b", "٣, 3",
        ])
    func testHasOnListsMatchesTheEagerSplit(_ text: String) {
        let comparators: [JSONValue] = [
            "admin", "ADMIN", "writer", "b", "c", "", "42", 42, 1000, "1000", 0, -0.0, 1.5, "2.5", true, false, "true", "é", "É",
            "caf\u{E9}", "k", "kelvin", "a\u{301}", "x", "a b", "3", 3,
        ]
        for comparator in comparators {
            guard var expectedScalar = Scalar(comparator) else { continue }
            let eager = Scalar.listItems(text)
            let expected = eager.contains { item in
                var item = item
                return withUnsafePointer(to: &item) { lhs in withUnsafePointer(to: &expectedScalar) { Scalar.equal(lhs, $0) } }
            }
            let attribute = PreparedAttribute(.string(text))
            let actual: Bool
            if attribute.hasItems {
                actual = withUnsafePointer(to: &expectedScalar) { attribute.itemsContain($0) }
            } else {
                actual = withUnsafePointer(to: &expectedScalar) { comparatorPointer in
                    withUnsafePointer(to: attribute.scalar) { Scalar.equal($0, comparatorPointer) }
                }
            }
            #expect(actual == expected, "\(text.debugDescription) has \(comparator)")
            // And through a whole flag.
            #expect(Fixtures.filter(.string(text), .has, comparator) == expected, "\(text.debugDescription) has \(comparator)")
        }
    }

    @Test func testHasOnArraysMatchesTheEagerElements() {
        let arrays: [[JSONValue]] = [
            ["admin", "writer"], ["ADMIN"], [42, "1e3"], [true, "false"], [" admin "], [.null, ["admin"], ["k": "admin"]], [],
            ["\u{212A}"], [1.5, "-0"],
        ]
        let comparators: [JSONValue] = ["admin", " admin ", 42, "42", 1000, true, "false", "k", 0, "1.5"]
        for array in arrays {
            for comparator in comparators {
                var comparatorScalar = Scalar(comparator)!
                let expected = array.compactMap(Scalar.init).contains { item in
                    var item = item
                    return withUnsafePointer(to: &item) { lhs in withUnsafePointer(to: &comparatorScalar) { Scalar.equal(lhs, $0) } }
                }
                #expect(Fixtures.filter(.array(array), .has, comparator) == expected, "\(array) has \(comparator)")
            }
        }
    }
}
