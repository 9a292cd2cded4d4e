/// The outcome of evaluating one flag for one user: the value and why.
///
/// The reason and the matching group back `halyard eval --explain` and OFREP's `reason` field.
public struct Evaluation: Sendable, Equatable {
    /// Why a flag evaluated as it did; the raw values are OFREP's reason codes.
    public enum Reason: String, Sendable {
        /// The flag is inactive, so every user gets `baseState`.
        case disabled = "DISABLED"
        /// A rule group selected the user, who gets `!baseState`.
        case targetingMatch = "TARGETING_MATCH"
        /// No group selected the user, who gets `baseState`.
        case `default` = "DEFAULT"
        /// There is no flag with the requested id.
        case flagNotFound = "FLAG_NOT_FOUND"
    }

    /// The flag's value for the user.
    public let value: Bool
    /// Why the flag has that value.
    public let reason: Reason
    /// The index of the first rule group that selected the user, for ``Reason/targetingMatch``.
    public let matchedGroup: Int?

    /// Creates an evaluation.
    public init(value: Bool, reason: Reason, matchedGroup: Int? = nil) {
        self.value = value
        self.reason = reason
        self.matchedGroup = matchedGroup
    }

    /// The evaluation of an unknown flag id: `false` with reason ``Reason/flagNotFound``.
    public static let flagNotFound = Evaluation(value: false, reason: .flagNotFound)
}
