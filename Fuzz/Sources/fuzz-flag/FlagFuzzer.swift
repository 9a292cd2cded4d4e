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
/// equal flag without deprecation warnings, and both evaluate the same.
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
    let semaphoreRollouts = flag.rules.joined().count { rule in
        if case .percentage(_, nil) = rule { return true }
        return false
    }
    invariant(again.warnings.count == semaphoreRollouts, "the normalised form has warnings: \(again.warnings) in \(text)")
    for context in sampleContexts {
        invariant(reread.evaluate(context) == flag.evaluate(context), "the normalised form evaluates differently: \(text)")
    }
    return 0
}

/// A few users to evaluate decoded flags for.
private let sampleContexts: [EvaluationContext] = [
    [:],
    ["userId": "u-42", "plan": "enterprise", "age": 37, "groups": ["beta", "staff"], "country": "FR"],
    ["targetingKey": "user-1", "plan": "free", "age": 17.5, "groups": "beta, staff", "beta": true, "score": -0.0],
]
