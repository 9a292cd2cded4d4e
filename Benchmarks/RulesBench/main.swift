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
/// round (least disturbed by other work on the machine) and the median. Returns the best round.
///
/// The loop counts evaluations that a rule group decided, the same test for boolean and typed flags, so that their
/// figures compare; for a boolean flag with `baseState: false` that is the share of users who get `true` ("on").
/// It calls `Flag.resolve`, as the server's routes and the client SDK do; with `copyingValues` it calls
/// `Flag.evaluate`, which also copies the value and the variant name out.
@discardableResult
func measure(
    _ name: String, flag: Flag, contexts: [EvaluationContext], iterations: Int, rounds: Int = 5, suffix: String = "", copyingValues: Bool = false
) -> Double {
    let mask = contexts.count - 1
    var selected = 0
    for index in 0..<min(iterations, 100_000) where flag.resolve(contexts[index & mask]).matchedGroup != nil { selected += 1 }  // warm-up
    var results: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        selected = 0
        let elapsed = clock.measure {
            if copyingValues {
                for index in 0..<iterations where flag.evaluate(contexts[index & mask]).matchedGroup != nil { selected += 1 }
            } else {
                for index in 0..<iterations where flag.resolve(contexts[index & mask]).matchedGroup != nil { selected += 1 }
            }
        }
        blackHole(selected)
        results.append(nanoseconds(elapsed) / Double(iterations))
    }
    results.sort()
    let share = Double(selected) / Double(iterations) * 100
    let best = format(results[0])
    let median = format(results[rounds / 2])
    let label = flag.isTyped ? "matched" : "on"
    print("\(name): \(best) ns/evaluation best, \(median) median (\(rounds) × \(iterations), \(format(share))% \(label))\(suffix)")
    return results[0]
}

/// Measures several flags in interleaved rounds (each round evaluates every flag once over `iterations`), prints each
/// flag's best and median round in ns per evaluation, and returns the best rounds in order.
func measureInterleaved(_ flags: [(name: String, flag: Flag)], contexts: [EvaluationContext], iterations: Int, rounds: Int = 7) -> [Double] {
    let mask = contexts.count - 1
    var results = Array(repeating: [Double](), count: flags.count)
    let clock = ContinuousClock()
    for round in 0...rounds {
        for (position, entry) in flags.enumerated() {
            var selected = 0
            let elapsed = clock.measure {
                for index in 0..<iterations where entry.flag.resolve(contexts[index & mask]).matchedGroup != nil {
                    selected += 1
                }
            }
            blackHole(selected)
            if round > 0 { results[position].append(nanoseconds(elapsed) / Double(iterations)) }  // round 0 warms up
        }
    }
    for (position, entry) in flags.enumerated() {
        results[position].sort()
        let best = format(results[position][0])
        let median = format(results[position][rounds / 2])
        print("\(entry.name): \(best) ns/evaluation best, \(median) median (\(rounds) × \(iterations), interleaved)")
    }
    return results.map { $0[0] }
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// A ratio with two decimals: "1.03".
func ratio(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
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
measure(
    "(a') (a) through evaluate(), copying the value and the variant name out", flag: typical, contexts: users, iterations: iterations,
    copyingValues: true)
measure("(b) one sticky % rule", flag: sticky, contexts: users, iterations: iterations)
measure("(c) one Semaphore % rule (user text cached per context)", flag: semaphore, contexts: users, iterations: iterations / 10)

// (h) A typed flag with the same rules as (a), each group serving a string variant: the typed path must stay within
// 1.2× of the boolean one (issue 11).
let typedTypical = decodeFlag(
    #"""
    {
      "name": "Checkout layout",
      "active": true,
      "variants": { "classic": "classic", "one-page": "one-page", "compact": "compact", "dense": "dense" },
      "defaultVariant": "classic",
      "rules": [
        { "when": [ { "type": "filter", "attribute": "country", "operator": "in", "comparator": ["DE", "FR", "NL", "AT"] },
                    { "type": "filter", "attribute": "plan", "operator": "==", "comparator": "Enterprise" } ], "serve": "one-page" },
        { "when": [ { "type": "filter", "attribute": "age", "operator": ">=", "comparator": 18 },
                    { "type": "filter", "attribute": "beta", "operator": "==", "comparator": true } ], "serve": "compact" },
        { "when": [ { "type": "filter", "attribute": "appVersion", "operator": ">=", "comparator": "2.3" },
                    { "type": "filter", "attribute": "platform", "operator": "!=", "comparator": "android" } ], "serve": "dense" }
      ]
    }
    """#,
    id: "new-checkout"
)

// (i) A typed flag whose one group splits users three ways on userId (target: under 100 ns).
let threeWay = decodeFlag(
    #"""
    {
      "active": true,
      "variants": { "classic": "classic", "one-page": "one-page", "compact": "compact" },
      "defaultVariant": "classic",
      "rules": [
        { "when": [], "split": { "attribute": "userId", "variants": [
            { "variant": "compact", "percentage": 50 }, { "variant": "one-page", "percentage": 30 }, { "variant": "classic", "percentage": 20 } ] } }
      ]
    }
    """#,
    id: "checkout-layout"
)
// The typed figures are compared with their boolean counterparts measured in the same rounds, interleaved, so that
// other work on the machine weighs on both alike.
let typedBests = measureInterleaved(
    [
        ("(h) typed flag, the rules of (a) serving string variants", typedTypical), ("(a) again, interleaved with (h)", typical),
        ("(i) typed flag, one 3-way split on userId (target: under 100 ns)", threeWay), ("(b) again, interleaved with (i)", sticky),
    ],
    contexts: users,
    iterations: iterations
)
print("(h)/(a): \(ratio(typedBests[0] / typedBests[1]))× the boolean flag with the same rules (target: at most 1.2×)")
print("(i)/(b): \(ratio(typedBests[2] / typedBests[3]))× one sticky % rule (the same bucket)")

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
        if typical.bool(of: typical.resolve(context)) { prepared += 1 }
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
                for flag in flags where flag.bool(of: flag.resolve(context)) { selected += 1 }
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
