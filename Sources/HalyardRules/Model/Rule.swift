/// One normalised targeting rule of a flag.
///
/// A flag's rules are groups of rules: a user is selected when every rule of some group is true. Rules are kept in the
/// form the file gave them (after validation and 0.2 → 1.0 normalisation), so that two flags with equal rules target
/// exactly the same users and change detection can compare them directly.
public enum Rule: Sendable, Hashable {
    /// `{"type": "everybody"}`: always true.
    case everybody
    /// `{"type": "nobody"}`: always false.
    case nobody
    /// `{"type": "filter", …}`: compares one user attribute with a comparator.
    case filter(attribute: String, operator: RuleOperator, comparator: JSONValue)
    /// `{"type": "%", …}`: a rollout to a share of users.
    ///
    /// `basisPoints` is `round(percentage × 100)`, 0…10000, exact because a percentage has at most two decimals.
    /// With an `attribute`, bucketing is sticky (MurmurHash3 of the flag id and the attribute value); without one, it
    /// is Semaphore 1.0's MD5 of the whole user object.
    case percentage(basisPoints: Int, attribute: String?)
}

extension Rule {
    /// The rule in the 1.0 file format, e.g. `{"type": "%", "percentage": 25, "attribute": "userId"}`.
    public var jsonValue: JSONValue {
        switch self {
        case .everybody:
            return ["type": "everybody"]
        case .nobody:
            return ["type": "nobody"]
        case .filter(let attribute, let op, let comparator):
            return ["type": "filter", "attribute": .string(attribute), "operator": .string(op.rawValue), "comparator": comparator]
        case .percentage(let basisPoints, let attribute):
            var members: [String: JSONValue] = ["type": "%", "percentage": .number(JSONNumber(Double(basisPoints) / 100))]
            if let attribute { members["attribute"] = .string(attribute) }
            return .object(members)
        }
    }
}
