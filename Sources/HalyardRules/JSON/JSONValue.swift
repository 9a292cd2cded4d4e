/// A JSON value as Halyard sees it.
///
/// Flag files, user attributes and API bodies are all plain JSON, so the rules engine works on this small,
/// value-typed tree instead of `Any` or Foundation's `JSONSerialization`. Numbers compare as `Double`s, as in
/// JavaScript and in Semaphore's Lucee runtime, and keep the exact form they were written in (``JSONNumber``); object
/// keys are unordered (``jsonText`` sorts them).
///
/// ```swift
/// let user: JSONValue = ["userId": "u-42", "plan": "enterprise", "age": 37]
/// let parsed = try JSONValue.parse(#"{"plan": "enterprise"}"#)
/// ```
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number: a `Double`, with its exact written form where that says more (``JSONNumber``).
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object; member order carries no meaning.
    case object([String: JSONValue])
}

// MARK: - Accessors

extension JSONValue {
    /// The string, if this value is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, if this value is a number.
    public var numberValue: Double? {
        if case .number(let value) = self { return value.double }
        return nil
    }

    /// The boolean, if this value is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this value is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this value is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` of an object, or `nil` for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// A short English name of the value's JSON type ("a string", "an array", …), used in diagnostics.
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension JSONValue {
    /// The value with every number in its shortest form, for places where only a number's value counts (a rule's
    /// comparator), so that `10` and `10.0` there compare equal.
    var withShortestNumbers: JSONValue {
        switch self {
        case .number(let number): .number(JSONNumber(number.double))
        case .array(let elements): .array(elements.map(\.withShortestNumbers))
        case .object(let members): .object(members.mapValues(\.withShortestNumbers))
        case .null, .bool, .string: self
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// Creates `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates a boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates a number from an integer literal.
    public init(integerLiteral value: Int) { self = .number(JSONNumber(Double(value))) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates a number.
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates a string.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates an array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates an object. A repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var members: [String: JSONValue] = [:]
        for (key, value) in elements { members[key] = value }
        self = .object(members)
    }
}

// MARK: - Description

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value (``jsonText``).
    public var description: String { jsonText }
}
