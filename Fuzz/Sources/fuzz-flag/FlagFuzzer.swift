//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import FuzzSupport
import HalyardRules

/// Fuzzes ``FlagDecoder/decode(_:id:file:)``: bytes → JSON → validation → a normalised ``Flag``, as a flag file is read.
///
/// For every input: decoding returns, a flag comes back exactly when there is no error diagnostic, and every
/// diagnostic names the file, a JSON pointer and a message. A decoded flag's normalised form decodes again to an
/// equal flag without deprecation warnings, and both evaluate the same. A typed flag holds only what its validator
/// allows (names that are variants, one kind of value, splits of exactly 100%).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let file = "flags/production/fuzz-flag.json"
    let result = FlagDecoder.decode(fuzzBytes(data, size), id: "fuzz-flag", file: file)
    invariant((result.flag == nil) == result.hasErrors, "a flag together with errors, or neither: \(result.diagnostics)")
    for diagnostic in result.diagnostics {
        invariant(diagnostic.file == file, "a diagnostic names another file: \(diagnostic)")
        invariant(diagnostic.pointer.isEmpty || diagnostic.pointer.hasPrefix("/"), "not a JSON pointer: \(diagnostic)")
        invariant(!diagnostic.message.isEmpty, "a diagnostic without a message")
    }
    guard let flag = result.flag else { return 0 }

    guard case .object(var members) = flag.normalizedJSON else {
        invariant(false, "the normalised form is not an object")
        return 0
    }
    members["id"] = nil
    let text = JSONValue.object(members).jsonText
    let again = FlagDecoder.decode(text, id: "fuzz-flag", file: file)
    guard let reread = again.flag else {
        invariant(false, "the normalised form does not decode: \(again.diagnostics) in \(text)")
        return 0
    }
    invariant(reread == flag, "the normalised form decodes to another flag: \(text)")
    let rules: [Rule]
    switch flag.targeting {
    case .boolean(_, let groups): rules = Array(groups.joined())
    case .typed(let variants, let defaultVariant, let groups):
        rules = groups.flatMap(\.when)
        checkTyped(variants: variants, defaultVariant: defaultVariant, groups: groups)
    }
    let semaphoreRollouts = rules.count { rule in
        if case .percentage(_, nil) = rule { return true }
        return false
    }
    invariant(again.warnings.count == semaphoreRollouts, "the normalised form has warnings: \(again.warnings) in \(text)")
    for context in sampleContexts {
        invariant(reread.evaluate(context) == flag.evaluate(context), "the normalised form evaluates differently: \(text)")
    }
    return 0
}

/// What the decoder guarantees about a typed flag: 1…64 variants of one kind, every name it uses is a variant, and
/// every split's shares add up to 100%.
private func checkTyped(variants: Variants, defaultVariant: String, groups: [RuleGroup]) {
    invariant((1...64).contains(variants.names.count), "a typed flag with \(variants.names.count) variants")
    invariant(Set(variants.values.values.map(Variants.Kind.init(of:))).count == 1, "a typed flag with mixed or null values")
    invariant(variants[defaultVariant] != nil, "defaultVariant \(defaultVariant) is not a variant")
    for group in groups {
        switch group.outcome {
        case .serve(let name):
            invariant(variants[name] != nil, "serve \(name) is not a variant")
        case .split(let split):
            invariant(split.allocations.allSatisfy { variants[$0.variant] != nil }, "a split names an unknown variant")
            invariant(split.allocations.reduce(0) { $0 + $1.basisPoints } == 10_000, "a split's shares do not add up to 100")
        }
    }
}

/// A few users to evaluate decoded flags for.
private let sampleContexts: [EvaluationContext] = [
    [:],
    ["userId": "u-42", "plan": "enterprise", "age": 37, "groups": ["beta", "staff"], "country": "FR"],
    ["targetingKey": "user-1", "plan": "free", "age": 17.5, "groups": "beta, staff", "beta": true, "score": -0.0],
]
