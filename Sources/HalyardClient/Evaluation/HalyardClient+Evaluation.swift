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
    public func bool(_ id: String, default defaultValue: Bool, context: EvaluationContext = [:]) -> Bool {
        cell.withCurrent(ifNone: defaultValue) { set in
            set.lookup.withFlag(id, ifMissing: defaultValue) { box in
                let resolution = box.flag.resolve(context)
                if !box.flag.isTyped { return box.flag.bool(of: resolution) }
                if case .bool(let value) = box.flag.value(of: resolution) { return value }
                return defaultValue
            }
        }
    }

    /// The value of a string flag for `context`, or `defaultValue`.
    public func string(_ id: String, default defaultValue: String, context: EvaluationContext = [:]) -> String {
        value(id, defaultValue, context, ValueConversion.string)
    }

    /// The value of a number flag for `context` when it is a whole number that fits an `Int`, or `defaultValue`.
    public func int(_ id: String, default defaultValue: Int, context: EvaluationContext = [:]) -> Int {
        value(id, defaultValue, context, ValueConversion.int)
    }

    /// The value of a number flag for `context`, or `defaultValue`.
    public func double(_ id: String, default defaultValue: Double, context: EvaluationContext = [:]) -> Double {
        value(id, defaultValue, context, ValueConversion.double)
    }

    /// The value of an object flag (a JSON object or array) for `context`, or `defaultValue`.
    public func object(_ id: String, default defaultValue: JSONValue, context: EvaluationContext = [:]) -> JSONValue {
        value(id, defaultValue, context, ValueConversion.object)
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

    /// The value of flag `id` for `context` converted by `convert`, or `defaultValue`; the flag is read in place.
    private func value<Value: Sendable>(_ id: String, _ defaultValue: Value, _ context: EvaluationContext, _ convert: (JSONValue) -> Value?) -> Value {
        cell.withCurrent(ifNone: defaultValue) { set in
            set.lookup.withFlag(id, ifMissing: defaultValue) { box in
                convert(box.flag.value(of: box.flag.resolve(context))) ?? defaultValue
            }
        }
    }

    private func details<Value: Sendable>(
        _ id: String, _ defaultValue: Value, _ context: EvaluationContext, _ convert: (JSONValue) -> Value?
    ) -> FlagDetails<Value> {
        cell.withCurrent(ifNone: .failure(id, defaultValue, .providerNotReady)) { set in
            set.lookup.withFlag(id, ifMissing: .failure(id, defaultValue, .flagNotFound)) { box in
                let evaluation = box.flag.evaluate(context)
                guard let value = convert(evaluation.value) else { return .failure(id, defaultValue, .typeMismatch) }
                return FlagDetails(
                    flagID: id, value: value, variant: evaluation.variant, reason: FlagReason(evaluation.reason), errorCode: nil,
                    matchedGroup: evaluation.matchedGroup)
            }
        }
    }
}
