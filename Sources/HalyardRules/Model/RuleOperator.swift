/// The comparison a `filter` rule makes between a user attribute and its comparator.
///
/// The raw values are the exact, lower-case spellings that flag files use; anything else (`=`, `<>`, `IN`) is a
/// validation error, where Semaphore would quietly evaluate it to false.
public enum RuleOperator: String, Sendable, Hashable, CaseIterable {
    /// `==`: the attribute equals the comparator.
    case equal = "=="
    /// `!=`: the attribute is present and does not equal the comparator.
    case notEqual = "!="
    /// `<`: the attribute orders before the comparator.
    case less = "<"
    /// `<=`: the attribute orders before or equals the comparator.
    case lessOrEqual = "<="
    /// `>`: the attribute orders after the comparator.
    case greater = ">"
    /// `>=`: the attribute orders after or equals the comparator.
    case greaterOrEqual = ">="
    /// `in`: the attribute equals an item of the comparator (an array, or a comma-separated string).
    case `in` = "in"
    /// `has`: the attribute (an array, or a comma-separated string) contains the comparator.
    case has = "has"

    /// Whether the operator compares one scalar with another (`==` … `>=`), as opposed to `in` and `has`.
    public var isComparison: Bool {
        switch self {
        case .in, .has: false
        default: true
        }
    }
}
