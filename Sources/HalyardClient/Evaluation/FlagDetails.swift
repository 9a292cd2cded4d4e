//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// Why a flag evaluated as it did in the client: Halyard's reasons, plus ``error`` when the caller's default was
/// served (DESIGN §2, §11). The raw values are OpenFeature's reason codes.
public enum FlagReason: String, Sendable, Hashable {
    /// The flag is inactive.
    case disabled = "DISABLED"
    /// The flag is active and has no rule groups.
    case staticValue = "STATIC"
    /// A rule group matched and served a fixed value.
    case targetingMatch = "TARGETING_MATCH"
    /// A rule group matched and its split chose the variant.
    case split = "SPLIT"
    /// No rule group matched.
    case `default` = "DEFAULT"
    /// The flag could not be evaluated; the caller's default was served and ``FlagDetails/errorCode`` says why.
    case error = "ERROR"

    /// The client's reason for one of Halyard's.
    init(_ reason: Evaluation.Reason) {
        switch reason {
        case .disabled: self = .disabled
        case .staticValue: self = .staticValue
        case .targetingMatch: self = .targetingMatch
        case .split: self = .split
        case .default: self = .default
        case .flagNotFound: self = .error
        }
    }
}

/// Why the caller's default was served; the raw values are OpenFeature's error codes.
public enum FlagErrorCode: String, Sendable, Hashable {
    /// The environment has no flag with that id.
    case flagNotFound = "FLAG_NOT_FOUND"
    /// The client has no flags yet: none in the cache file, none fetched.
    case providerNotReady = "PROVIDER_NOT_READY"
    /// The flag's value is not of the type asked for (an `int` of a string flag, a `bool` of a typed flag…).
    case typeMismatch = "TYPE_MISMATCH"
}

/// The value of one flag for one context, with the variant, the reason and, when the caller's default was served,
/// the error code.
///
/// ```swift
/// let details = client.stringDetails("checkout-theme", default: "classic", context: ["userId": "u-42"])
/// print(details.value, details.variant ?? "-", details.reason.rawValue)
/// ```
public struct FlagDetails<Value: Sendable>: Sendable {
    /// The flag id asked for.
    public let flagID: String
    /// The flag's value, or the caller's default when ``errorCode`` is set.
    public let value: Value
    /// The variant Halyard's rules chose (`"on"`/`"off"` for a boolean flag); `nil` when the default was served.
    public let variant: String?
    /// Why the flag has that value.
    public let reason: FlagReason
    /// Why the caller's default was served; `nil` when the flag was evaluated.
    public let errorCode: FlagErrorCode?
    /// The index of the rule group that decided, for ``FlagReason/targetingMatch`` and ``FlagReason/split``.
    public let matchedGroup: Int?

    /// Creates details.
    public init(flagID: String, value: Value, variant: String?, reason: FlagReason, errorCode: FlagErrorCode?, matchedGroup: Int? = nil) {
        self.flagID = flagID
        self.value = value
        self.variant = variant
        self.reason = reason
        self.errorCode = errorCode
        self.matchedGroup = matchedGroup
    }

    /// The caller's default, served because of `code`.
    static func failure(_ flagID: String, _ value: Value, _ code: FlagErrorCode) -> FlagDetails {
        FlagDetails(flagID: flagID, value: value, variant: nil, reason: .error, errorCode: code)
    }
}

extension FlagDetails: Equatable where Value: Equatable {}

/// Reads a flag's JSON value as one of the accessor types of ``HalyardClient``.
///
/// The conversions are strict: `int` takes only numbers that are whole and fit, `object` only objects and arrays.
enum ValueConversion {
    @inline(__always)
    static func bool(_ value: JSONValue) -> Bool? {
        if case .bool(let flag) = value { return flag }
        return nil
    }

    @inline(__always)
    static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    static func int(_ value: JSONValue) -> Int? {
        guard case .number(let number) = value, let whole = number.int64 else { return nil }
        return Int(exactly: whole)
    }

    static func double(_ value: JSONValue) -> Double? {
        if case .number(let number) = value { return number.double }
        return nil
    }

    static func object(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .object, .array: return value
        default: return nil
        }
    }
}
