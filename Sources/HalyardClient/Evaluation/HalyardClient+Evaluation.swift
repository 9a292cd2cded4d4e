//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// Evaluation: in-process, with the flag set held now; never throws, never waits.
extension HalyardClient {
    /// The value of a boolean flag for `context`, or `defaultValue` when the flag is unknown, not boolean, or the
    /// client has no flags yet.
    ///
    /// ```swift
    /// let on = client.bool("new-checkout", default: false, context: ["userId": "u-42"])
    /// ```
    @inlinable
    public func bool(_ id: String, default defaultValue: Bool, context: EvaluationContext = [:]) -> Bool {
        guard let box = box(id) else { return defaultValue }
        let resolution = box.flag.resolve(context)
        if !box.flag.isTyped { return box.flag.bool(of: resolution) }
        if case .bool(let value) = box.flag.value(of: resolution) { return value }
        return defaultValue
    }

    /// The value of a string flag for `context`, or `defaultValue`.
    public func string(_ id: String, default defaultValue: String, context: EvaluationContext = [:]) -> String {
        guard let flag = flag(id), case .string(let value) = flag.evaluate(context).value else { return defaultValue }
        return value
    }

    /// The value of a number flag for `context` when it is a whole number that fits an `Int`, or `defaultValue`.
    public func int(_ id: String, default defaultValue: Int, context: EvaluationContext = [:]) -> Int {
        guard let flag = flag(id), let value = ValueConversion.int(flag.evaluate(context).value) else { return defaultValue }
        return value
    }

    /// The value of a number flag for `context`, or `defaultValue`.
    public func double(_ id: String, default defaultValue: Double, context: EvaluationContext = [:]) -> Double {
        guard let flag = flag(id), let value = ValueConversion.double(flag.evaluate(context).value) else { return defaultValue }
        return value
    }

    /// The value of an object flag (a JSON object or array) for `context`, or `defaultValue`.
    public func object(_ id: String, default defaultValue: JSONValue, context: EvaluationContext = [:]) -> JSONValue {
        guard let flag = flag(id), let value = ValueConversion.object(flag.evaluate(context).value) else { return defaultValue }
        return value
    }

    /// ``bool(_:default:context:)`` with the variant, the reason and, when the default was served, the error code.
    public func boolDetails(_ id: String, default defaultValue: Bool, context: EvaluationContext = [:]) -> FlagDetails<Bool> {
        details(id, defaultValue, context, ValueConversion.bool)
    }

    /// ``string(_:default:context:)`` with the variant, the reason and, when the default was served, the error code.
    public func stringDetails(_ id: String, default defaultValue: String, context: EvaluationContext = [:]) -> FlagDetails<String> {
        details(id, defaultValue, context, ValueConversion.string)
    }

    /// ``int(_:default:context:)`` with the variant, the reason and, when the default was served, the error code.
    public func intDetails(_ id: String, default defaultValue: Int, context: EvaluationContext = [:]) -> FlagDetails<Int> {
        details(id, defaultValue, context, ValueConversion.int)
    }

    /// ``double(_:default:context:)`` with the variant, the reason and, when the default was served, the error code.
    public func doubleDetails(_ id: String, default defaultValue: Double, context: EvaluationContext = [:]) -> FlagDetails<Double> {
        details(id, defaultValue, context, ValueConversion.double)
    }

    /// ``object(_:default:context:)`` with the variant, the reason and, when the default was served, the error code.
    public func objectDetails(_ id: String, default defaultValue: JSONValue, context: EvaluationContext = [:]) -> FlagDetails<JSONValue> {
        details(id, defaultValue, context, ValueConversion.object)
    }

    /// The value of any flag as JSON, with details; the default is served only for an unknown flag or a client
    /// without flags.
    public func valueDetails(_ id: String, default defaultValue: JSONValue, context: EvaluationContext = [:]) -> FlagDetails<JSONValue> {
        details(id, defaultValue, context) { $0 }
    }

    /// Every flag of the environment evaluated for `context`, by id; empty while the client has no flags.
    public func allFlags(context: EvaluationContext = [:]) -> [String: FlagDetails<JSONValue>] {
        guard let set = cell.value else { return [:] }
        var all: [String: FlagDetails<JSONValue>] = [:]
        all.reserveCapacity(set.flags.count)
        for (id, flag) in set.flags {
            let evaluation = flag.evaluate(context)
            all[id] = FlagDetails(
                flagID: id, value: evaluation.value, variant: evaluation.variant, reason: FlagReason(evaluation.reason), errorCode: nil,
                matchedGroup: evaluation.matchedGroup)
        }
        return all
    }

    /// The flag with `id` in the flag set held now.
    func flag(_ id: String) -> Flag? {
        cell.value?.boxes[id]?.flag
    }

    /// The boxed flag with `id` in the flag set held now: the lookup of ``bool(_:default:context:)``, which copies one
    /// reference rather than a whole ``Flag``.
    @usableFromInline
    func box(_ id: String) -> FlagBox? {
        cell.value?.boxes[id]
    }

    private func details<Value: Sendable>(
        _ id: String, _ defaultValue: Value, _ context: EvaluationContext, _ convert: (JSONValue) -> Value?
    ) -> FlagDetails<Value> {
        guard let set = cell.value else { return .failure(id, defaultValue, .providerNotReady) }
        guard let box = set.boxes[id] else { return .failure(id, defaultValue, .flagNotFound) }
        let evaluation = box.flag.evaluate(context)
        guard let value = convert(evaluation.value) else { return .failure(id, defaultValue, .typeMismatch) }
        return FlagDetails(
            flagID: id, value: value, variant: evaluation.variant, reason: FlagReason(evaluation.reason), errorCode: nil,
            matchedGroup: evaluation.matchedGroup)
    }
}
