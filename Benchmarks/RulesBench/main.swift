// Measures how long evaluating a flag takes, in nanoseconds per evaluation.
//
// Run from a package that builds this directory as the `rules-bench` executable:
//     swift run -c release rules-bench [iterations]

import HalyardRules

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole(_ value: Int) {
    if value == Int.min { print("unreachable") }
}

func decodeFlag(_ json: String, id: String) -> Flag {
    let result = FlagDecoder.decode(Array(json.utf8), id: id, file: "flags/bench/\(id).json")
    guard let flag = result.flag else { fatalError("invalid benchmark flag: \(result.diagnostics)") }
    return flag
}

/// Evaluates `flag` `iterations` times per round, cycling through `contexts`, and prints ns per evaluation: the best
/// round (least disturbed by other work on the machine) and the median.
func measure(_ name: String, flag: Flag, contexts: [EvaluationContext], iterations: Int, rounds: Int = 5) {
    let mask = contexts.count - 1
    var selected = 0
    for index in 0..<min(iterations, 100_000) where flag.evaluate(contexts[index & mask]).value { selected += 1 }  // warm-up
    var results: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        selected = 0
        let elapsed = clock.measure {
            for index in 0..<iterations where flag.evaluate(contexts[index & mask]).value {
                selected += 1
            }
        }
        blackHole(selected)
        results.append(nanoseconds(elapsed) / Double(iterations))
    }
    results.sort()
    let share = Double(selected) / Double(iterations) * 100
    let best = format(results[0])
    let median = format(results[rounds / 2])
    print("\(name): \(best) ns/evaluation best, \(median) median (\(rounds) × \(iterations), \(format(share))% on)")
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

func format(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return String(rounded)
}

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 5_000_000

// (a) A typical flag: three groups of two filter rules.
let typical = decodeFlag(
    #"""
    {
      "name": "New checkout",
      "active": true,
      "rules": [
        [ { "type": "filter", "attribute": "country", "operator": "in", "comparator": ["DE", "FR", "NL", "AT"] },
          { "type": "filter", "attribute": "plan", "operator": "==", "comparator": "Enterprise" } ],
        [ { "type": "filter", "attribute": "age", "operator": ">=", "comparator": 18 },
          { "type": "filter", "attribute": "beta", "operator": "==", "comparator": true } ],
        [ { "type": "filter", "attribute": "appVersion", "operator": ">=", "comparator": "2.3" },
          { "type": "filter", "attribute": "platform", "operator": "!=", "comparator": "android" } ]
      ]
    }
    """#,
    id: "new-checkout"
)

let countries: [JSONValue] = ["de", "us", "fr", "gb", "nl", "jp", "at", "br"]
let plans: [JSONValue] = ["enterprise", "free", "pro", "Enterprise"]
let platforms: [JSONValue] = ["ios", "android", "web", "android"]
let versions: [JSONValue] = ["2.1", "2.3", "1.9", "2.10"]
let users: [EvaluationContext] = (0..<16).map { index in
    EvaluationContext([
        "userId": .string("user-\(index * 7919)"),
        "email": .string("user\(index)@example.com"),
        "country": countries[index % countries.count],
        "plan": plans[index % plans.count],
        "age": .number(JSONNumber(Double(14 + index * 3))),
        "beta": .bool(index % 5 == 0),
        "platform": platforms[index % platforms.count],
        "appVersion": versions[index / 4],
    ])
}

// (b) A flag with one sticky % rule.
let sticky = decodeFlag(
    #"{"active": true, "rules": [[{"type": "%", "percentage": 25, "attribute": "userId"}]]}"#,
    id: "sticky-rollout"
)

// (c) A Semaphore-compatible % rule (no attribute): MD5 of rule and user, user text cached per context.
let semaphore = decodeFlag(#"{"active": true, "rules": [[{"type": "%", "percentage": 25}]]}"#, id: "semaphore-rollout")

print("HalyardRules evaluation benchmark")
measure("(a) typical flag, 3 groups × 2 filters, 8-attribute user", flag: typical, contexts: users, iterations: iterations)
measure("(b) one sticky % rule", flag: sticky, contexts: users, iterations: iterations)
measure("(c) one Semaphore % rule (user text cached per context)", flag: semaphore, contexts: users, iterations: iterations / 10)

// Preparing a context is paid once per request, whatever the number of flags.
let attributes = (0..<64).map { index -> [String: JSONValue] in
    [
        "userId": .string("user-\(index)"), "email": .string("user\(index)@example.com"), "country": "de", "plan": "pro",
        "age": .number(JSONNumber(Double(index))), "beta": .bool(index % 2 == 0), "platform": "ios", "appVersion": "2.3",
    ]
}
var prepared = 0
let contextIterations = iterations / 10
let clock = ContinuousClock()
let elapsed = clock.measure {
    for index in 0..<contextIterations {
        let context = EvaluationContext(attributes[index & 63])
        if typical.evaluate(context).value { prepared += 1 }
    }
}
blackHole(prepared)
let contextNanoseconds = nanoseconds(elapsed) / Double(contextIterations)
print("(d) prepare an 8-attribute context + evaluate (a) once: \(format(contextNanoseconds)) ns")

// (e) One request against a large context (DESIGN §13): 1,000 attributes, 50 flags with a Semaphore-compatible `%`
// rule (no attribute), all evaluated against one context, as `POST …/evaluate` does. The bucket input (the user's
// serialisation) is built once per context and each distinct percentage hashed once.
let largeUser: [String: JSONValue] = Dictionary(
    uniqueKeysWithValues: (0..<1_000).map { ("attribute-\($0)", JSONValue.string("value-\($0)-\(String(repeating: "x", count: 16))")) }
)
func semaphoreFlags(_ percentages: [Int]) -> [Flag] {
    percentages.enumerated().map { index, percentage in
        decodeFlag(#"{"active": true, "rules": [[{"type": "%", "percentage": \#(percentage)}]]}"#, id: "rollout-\(index)")
    }
}
func measureRequest(_ name: String, flags: [Flag], attributes: [String: JSONValue], iterations: Int, rounds: Int = 5) {
    var results: [Double] = []
    var selected = 0
    for _ in 0..<rounds {
        let elapsed = ContinuousClock().measure {
            for _ in 0..<iterations {
                let context = EvaluationContext(attributes)
                for flag in flags where flag.evaluate(context).value { selected += 1 }
            }
        }
        results.append(nanoseconds(elapsed) / Double(iterations) / 1_000)
    }
    blackHole(selected)
    results.sort()
    print("\(name): \(format(results[0])) µs/request best, \(format(results[rounds / 2])) median (\(rounds) × \(iterations))")
}
let requestIterations = max(1, iterations / 50_000)
measureRequest("(e0) 1,000-attribute context, no flags (preparing it)", flags: [], attributes: largeUser, iterations: requestIterations)
measureRequest(
    "(e1) 1,000-attribute context, one Semaphore % flag (+ serialising the user once)",
    flags: semaphoreFlags([25]),
    attributes: largeUser,
    iterations: requestIterations
)
measureRequest(
    "(e) 1,000-attribute context, 50 Semaphore % flags over 5 percentages",
    flags: semaphoreFlags((0..<50).map { [5, 10, 25, 50, 75][$0 % 5] }),
    attributes: largeUser,
    iterations: requestIterations
)
measureRequest(
    "(f) 1,000-attribute context, 50 Semaphore % flags over 50 percentages",
    flags: semaphoreFlags((0..<50).map { $0 + 1 }),
    attributes: largeUser,
    iterations: requestIterations
)

// (g) A context whose attributes are long comma lists, and one `has` rule: lists are scanned on demand, not split
// when the context is prepared.
let listUser: [String: JSONValue] = Dictionary(
    uniqueKeysWithValues: (0..<100).map { index in
        ("list-\(index)", JSONValue.string((0..<50).map { "item-\($0)" }.joined(separator: ", ")))
    }
)
let hasFlag = decodeFlag(
    #"{"active": true, "rules": [[{"type": "filter", "attribute": "list-7", "operator": "has", "comparator": "item-25"}]]}"#,
    id: "has-item"
)
measureRequest("(g) 100 attributes of 50-item comma lists, one has rule", flags: [hasFlag], attributes: listUser, iterations: requestIterations * 10)
