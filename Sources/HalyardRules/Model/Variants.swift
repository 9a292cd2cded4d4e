/// The named values of a typed flag (DESIGN §1 "Typed flags: variants").
///
/// A boolean flag serves `true` or `false`; a typed flag serves one of these values, chosen by name. All values have
/// one ``Kind``, so that a client asking for a string always gets a string. Member order in the file carries no
/// meaning: two flags whose variants differ only in key order have equal `Variants`.
public struct Variants: Sendable, Hashable {
    /// The one kind that every value of a typed flag has; the raw values are the OpenAPI names.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// `true` or `false`.
        case boolean
        /// A string.
        case string
        /// A number, integer or float.
        case number
        /// An object or an array (JSON).
        case object

        /// The kind of a value; `nil` for `null`, which no variant may be.
        public init?(of value: JSONValue) {
            switch value {
            case .bool: self = .boolean
            case .string: self = .string
            case .number: self = .number
            case .object, .array: self = .object
            case .null: return nil
            }
        }
    }

    /// Name → value.
    public let values: [String: JSONValue]
    /// The names, sorted by their UTF-8 bytes: the order in which writers list them.
    public let names: [String]

    /// Creates the variants. The decoder checks that there are 1…64 of them and that all have one kind.
    public init(_ values: [String: JSONValue]) {
        self.values = values
        self.names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The kind of the values (of the first name, for variants that the decoder did not check); `object` when empty.
    public var kind: Kind {
        names.first.flatMap { values[$0] }.flatMap(Kind.init(of:)) ?? .object
    }

    /// The value of a variant.
    public subscript(name: String) -> JSONValue? { values[name] }

    /// Whether the two sets have the same names and values.
    public static func == (lhs: Variants, rhs: Variants) -> Bool { lhs.values == rhs.values }

    /// Hashes the values.
    public func hash(into hasher: inout Hasher) { hasher.combine(values) }
}
