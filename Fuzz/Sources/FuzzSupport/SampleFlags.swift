//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// Flags that use every rule type and operator, and typed flags with splits, to evaluate fuzzed contexts against.
///
/// The request fuzzers decode a context and then evaluate it, because evaluation is where a context's values are
/// compared, split, hashed and serialised (Semaphore's MD5 of the whole user for a `%` rule without `attribute`, the
/// sticky bucket of a split, which falls through to the next group when the attribute is missing or not a scalar).
public enum SampleFlags {
    /// The flags, decoded once; a file that does not decode stops the fuzzer at start.
    public static let all: [Flag] = sources.map { id, text in
        let result = FlagDecoder.decode(text, id: id, file: "flags/fuzz/\(id).json")
        guard let flag = result.flag else {
            fatalError("sample flag \(id) does not decode: \(result.diagnostics)")
        }
        return flag
    }

    /// The evaluation (value, variant, reason and group) of every sample flag for one context, in the order of ``all``.
    public static func values(for context: EvaluationContext) -> [Evaluation] {
        all.map { flag in
            let evaluation = flag.evaluate(context)
            checkTyped(evaluation, of: flag)
            return evaluation
        }
    }

    /// A typed flag serves one of its variants, by name, with that variant's value; a split decides only with a group.
    private static func checkTyped(_ evaluation: Evaluation, of flag: Flag) {
        guard case .typed(let variants, _, let groups) = flag.targeting else { return }
        invariant(evaluation.variant.flatMap { variants[$0] } == evaluation.value, "\(flag.id) serves a value that is not its variant's")
        if let group = evaluation.matchedGroup {
            invariant(group < groups.count, "\(flag.id) names group \(group) of \(groups.count)")
            if case .split = groups[group].outcome {
                invariant(evaluation.reason == .split, "\(flag.id): a split group decided with reason \(evaluation.reason)")
            }
        }
    }

    /// Checks what must hold for every context a request decoder accepts.
    ///
    /// - Evaluating twice gives the same values (evaluation has no hidden state).
    /// - The context's canonical text (``JSONValue/jsonText``, which also keys ETags and context hashes) parses back to
    ///   an equal value that evaluates the same: two requests that Halyard treats as the same context get the same flags.
    public static func checkEvaluation(of attributes: [String: JSONValue]) {
        let context = EvaluationContext(attributes)
        let first = values(for: context)
        invariant(values(for: context) == first, "evaluation is not deterministic for \(JSONValue.object(attributes).jsonText)")
        let text = JSONValue.object(attributes).jsonText
        let reparsed: JSONValue
        do {
            reparsed = try JSONValue.parse(text)
        } catch {
            invariant(false, "the canonical text of a context does not parse: \(error) in \(text)")
            return
        }
        invariant(reparsed == .object(attributes), "the canonical text of a context parses to another value: \(text)")
        let again = values(for: EvaluationContext(reparsed.objectValue ?? [:]))
        invariant(again == first, "a context and its canonical text evaluate differently: \(text)")
    }

    private static let sources: [(String, String)] = [
        (
            "comparisons",
            """
            {"active": true, "rules": [
              [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}],
              [{"type": "filter", "attribute": "country", "operator": "!=", "comparator": "FR"}],
              [{"type": "filter", "attribute": "age", "operator": ">=", "comparator": 18},
               {"type": "filter", "attribute": "age", "operator": "<", "comparator": 65.5}],
              [{"type": "filter", "attribute": "score", "operator": ">", "comparator": -1e3},
               {"type": "filter", "attribute": "score", "operator": "<=", "comparator": 1e21}],
              [{"type": "filter", "attribute": "version", "operator": ">=", "comparator": "5.2"}],
              [{"type": "filter", "attribute": "beta", "operator": "==", "comparator": true}],
              [{"type": "filter", "attribute": "targetingKey", "operator": "==", "comparator": "user-1"}]
            ]}
            """
        ),
        (
            "lists",
            """
            {"active": true, "baseState": true, "rules": [
              [{"type": "filter", "attribute": "role", "operator": "in", "comparator": ["staff", "designer", 7, false]}],
              [{"type": "filter", "attribute": "customer", "operator": "in", "comparator": "Disney, Pop Tarts,,x"}],
              [{"type": "filter", "attribute": "groups", "operator": "has", "comparator": "beta-testers"}],
              [{"type": "filter", "attribute": "ids", "operator": "has", "comparator": 3}]
            ]}
            """
        ),
        (
            "sticky-rollout",
            """
            {"active": true, "rules": [
              [{"type": "%", "percentage": 37.5, "attribute": "userId"}],
              [{"type": "%", "percentage": 100, "attribute": "targetingKey"}, {"type": "nobody"}],
              [{"type": "%", "percentage": 0.01, "attribute": "age"}]
            ]}
            """
        ),
        (
            "semaphore-rollout",
            """
            {"active": true, "rules": [[{"type": "%", "percentage": 50}]]}
            """
        ),
        (
            "legacy",
            """
            {"active": true, "matchRules": "ANY", "rules": [
              {"type": "filter", "attribute": "plan", "operator": "in", "comparator": ["pro", "team"]},
              {"type": "%", "percentage": 12.25}
            ]}
            """
        ),
        (
            "inactive",
            """
            {"active": false, "baseState": true, "rules": [[{"type": "everybody"}]]}
            """
        ),
        (
            "checkout-layout",
            """
            {"active": true, "variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"}, "defaultVariant": "classic",
             "rules": [
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
               {"when": [{"type": "filter", "attribute": "country", "operator": "in", "comparator": "NL, BE"}],
                "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 33.33}, {"variant": "one-page", "percentage": 33.33},
                                                              {"variant": "classic", "percentage": 33.34}]}},
               {"when": [], "split": {"attribute": "targetingKey", "variants": [{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}]}},
               {"when": [{"type": "%", "percentage": 10}], "serve": "compact"}
             ]}
            """
        ),
        (
            "page-size",
            """
            {"active": true, "variants": {"small": 10, "float": 10.0, "safe": 9007199254740991, "past": 9007199254740993, "tiny": -1e-7},
             "defaultVariant": "small",
             "rules": [
               {"when": [{"type": "filter", "attribute": "age", "operator": ">=", "comparator": 18}],
                "split": {"attribute": "age", "variants": [{"variant": "float", "percentage": 0.01}, {"variant": "safe", "percentage": 99.99}]}},
               {"when": [{"type": "filter", "attribute": "groups", "operator": "has", "comparator": "beta"}], "serve": "past"},
               {"when": [{"type": "filter", "attribute": "beta", "operator": "==", "comparator": true}], "serve": "tiny"}
             ]}
            """
        ),
        (
            "config",
            """
            {"active": true, "variants": {"off": {}, "list": [1, "two", null], "nested": {"a": {"b": [true, 2.50]}}}, "defaultVariant": "off",
             "rules": [{"when": [], "split": {"attribute": "email", "variants": [{"variant": "list", "percentage": 100}]}},
                       {"when": [{"type": "filter", "attribute": "score", "operator": "<", "comparator": 0}], "serve": "nested"}]}
            """
        ),
        (
            "typed-inactive",
            """
            {"active": false, "variants": {"yes": true, "no": false}, "defaultVariant": "no", "rules": [{"when": [], "serve": "yes"}]}
            """
        ),
    ]
}
