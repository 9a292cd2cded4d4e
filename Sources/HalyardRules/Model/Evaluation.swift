/// The outcome of evaluating one flag for one user: the value, the variant and why.
///
/// The reason, the variant and the matching group back `halyard eval --explain`, the `details` of `/evaluate` and
/// OFREP's `reason` and `variant` fields.
public struct Evaluation: Sendable, Equatable {
    /// Why a flag evaluated as it did; the raw values are OFREP's reason codes (DESIGN §2).
    public enum Reason: String, Sendable {
        /// The flag is inactive, so every user gets `baseState` / `defaultVariant`.
        case disabled = "DISABLED"
        /// The flag is active and has no rule groups, so every user gets `baseState` / `defaultVariant`.
        case staticValue = "STATIC"
        /// A rule group matched and served a fixed value (boolean flags: `!baseState`).
        case targetingMatch = "TARGETING_MATCH"
        /// A rule group matched and its split chose the variant.
        case split = "SPLIT"
        /// No group matched, so the user gets `baseState` / `defaultVariant`.
        case `default` = "DEFAULT"
        /// There is no flag with the requested id.
        case flagNotFound = "FLAG_NOT_FOUND"
    }

    /// The flag's value for the user: a boolean, or a typed flag's variant value.
    public let value: JSONValue
    /// The variant name: `"on"` (`!baseState`) or `"off"` (`baseState`) for a boolean flag, the variant of a typed
    /// flag; `nil` for an unknown flag.
    public let variant: String?
    /// Why the flag has that value.
    public let reason: Reason
    /// The index of the rule group that decided, for ``Reason/targetingMatch`` and ``Reason/split``.
    public let matchedGroup: Int?

    /// Creates an evaluation.
    public init(value: JSONValue, variant: String?, reason: Reason, matchedGroup: Int? = nil) {
        self.value = value
        self.variant = variant
        self.reason = reason
        self.matchedGroup = matchedGroup
    }

    /// The value as a boolean, for boolean flags; `false` for any other value.
    public var boolValue: Bool {
        if case .bool(let value) = value { return value }
        return false
    }

    /// The evaluation of an unknown flag id: `false` with reason ``Reason/flagNotFound``.
    public static let flagNotFound = Evaluation(value: .bool(false), variant: nil, reason: .flagNotFound)
}
