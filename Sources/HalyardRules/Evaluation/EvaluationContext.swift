/// A user's attributes, prepared once per request.
///
/// Preparing works out, for every attribute, what rules need to compare it (lower-cased text, numeric value,
/// list items) and indexes attributes by a precomputed hash. Build one context per request and evaluate every flag
/// against it; evaluating then allocates nothing for `filter` and sticky `%` rules. A context is cheap to copy
/// and safe to share between tasks.
///
/// ```swift
/// let context = EvaluationContext(["userId": "u-42", "plan": "enterprise", "age": 37])
/// let evaluation = flag.evaluate(context)
/// ```
public struct EvaluationContext: Sendable {
    let table: AttributeTable

    /// Prepares attributes for evaluation. Null attributes count as missing.
    public init(_ attributes: [String: JSONValue]) {
        table = AttributeTable(attributes)
    }

    /// The attributes as given.
    public var attributes: [String: JSONValue] { table.attributes }
}

extension EvaluationContext: ExpressibleByDictionaryLiteral {
    /// Prepares attributes written as a literal: `["plan": "enterprise", "age": 37]`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var attributes: [String: JSONValue] = [:]
        for (key, value) in elements { attributes[key] = value }
        self.init(attributes)
    }
}
