/// A string, number or boolean prepared once for DESIGN §2's typed-but-forgiving comparisons.
///
/// Everything a comparison needs is worked out ahead of time, when a flag is compiled (comparators) or when an
/// ``EvaluationContext`` is built (user attributes): the lower-cased text, whether the text is a number and which,
/// and whether it spells `true` or `false`. Evaluating a rule then only compares fields.
struct Scalar: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        case string
        case number
        case bool
    }

    /// What a value says about truth: booleans, and strings spelling `true` / `false` in any case.
    enum Truth: UInt8, Sendable {
        case none
        case isFalse
        case isTrue
    }

    let kind: Kind
    /// Whether ``number`` holds a value: numbers, and strings that spell a number.
    let isNumeric: Bool
    let truth: Truth
    /// The number, for numbers and numeric strings; 0 otherwise.
    let number: Double
    /// The lower-cased text, for strings; empty otherwise.
    let folded: String

    init(string: String) {
        kind = .string
        folded = foldCase(string)
        if let value = NumericText.value(of: string) {
            isNumeric = true
            number = value
        } else {
            isNumeric = false
            number = 0
        }
        switch folded {
        case "true": truth = .isTrue
        case "false": truth = .isFalse
        default: truth = .none
        }
    }

    init(number: Double) {
        kind = .number
        isNumeric = true
        self.number = number + 0.0  // folds -0 into +0
        truth = .none
        folded = ""
    }

    init(bool: Bool) {
        kind = .bool
        isNumeric = false
        number = 0
        truth = bool ? .isTrue : .isFalse
        folded = ""
    }

    /// A scalar for a JSON string, number or boolean; `nil` for null, arrays and objects.
    init?(_ value: JSONValue) {
        switch value {
        case .string(let string): self.init(string: string)
        case .number(let number): self.init(number: number.double)
        case .bool(let bool): self.init(bool: bool)
        case .null, .array, .object: return nil
        }
    }

    /// DESIGN §2 equality: strings ignore case; numeric strings and numbers compare as numbers; `true`/`false` equal
    /// the strings `"true"`/`"false"` in any case; any other pair of different types is unequal.
    ///
    /// Scalars are passed by pointer so that evaluation compares them in place, without copying (and retaining) their
    /// text.
    @inline(__always)
    static func equal(_ lhs: UnsafePointer<Scalar>, _ rhs: UnsafePointer<Scalar>) -> Bool {
        switch (lhs.pointee.kind, rhs.pointee.kind) {
        case (.string, .string):
            if lhs.pointee.isNumeric, rhs.pointee.isNumeric { return lhs.pointee.number == rhs.pointee.number }
            return lhs.pointee.folded == rhs.pointee.folded
        case (.number, .number), (.number, .string), (.string, .number):
            return lhs.pointee.isNumeric && rhs.pointee.isNumeric && lhs.pointee.number == rhs.pointee.number
        case (.bool, .bool), (.bool, .string), (.string, .bool):
            return lhs.pointee.truth != .none && lhs.pointee.truth == rhs.pointee.truth
        case (.bool, .number), (.number, .bool):
            return false
        }
    }

    /// DESIGN §2 ordering: -1, 0 or 1, or `nil` when the pair is unordered.
    ///
    /// Numbers and numeric strings order as numbers; other strings order case-insensitively by text; booleans (and
    /// strings spelling them) order `false` before `true`; every other pair of different types is unordered.
    @inline(__always)
    static func order(_ lhs: UnsafePointer<Scalar>, _ rhs: UnsafePointer<Scalar>) -> Int? {
        switch (lhs.pointee.kind, rhs.pointee.kind) {
        case (.number, .number), (.number, .string), (.string, .number):
            guard lhs.pointee.isNumeric, rhs.pointee.isNumeric else { return nil }
            return compareNumbers(lhs.pointee.number, rhs.pointee.number)
        case (.string, .string):
            if lhs.pointee.isNumeric, rhs.pointee.isNumeric { return compareNumbers(lhs.pointee.number, rhs.pointee.number) }
            if lhs.pointee.folded == rhs.pointee.folded { return 0 }
            return lhs.pointee.folded < rhs.pointee.folded ? -1 : 1
        case (.bool, .bool), (.bool, .string), (.string, .bool):
            guard lhs.pointee.truth != .none, rhs.pointee.truth != .none else { return nil }
            return lhs.pointee.truth == rhs.pointee.truth ? 0 : (lhs.pointee.truth == .isFalse ? -1 : 1)
        case (.bool, .number), (.number, .bool):
            return nil
        }
    }

    @inline(__always)
    private static func compareNumbers(_ lhs: Double, _ rhs: Double) -> Int {
        lhs < rhs ? -1 : (lhs == rhs ? 0 : 1)
    }

    /// Applies one of `==` … `>=`.
    @inline(__always)
    static func compare(_ lhs: UnsafePointer<Scalar>, _ op: RuleOperator, _ rhs: UnsafePointer<Scalar>) -> Bool {
        switch op {
        case .equal: return equal(lhs, rhs)
        case .notEqual: return !equal(lhs, rhs)
        case .less: return order(lhs, rhs) == -1
        case .lessOrEqual: if let order = order(lhs, rhs) { return order <= 0 } else { return false }
        case .greater: return order(lhs, rhs) == 1
        case .greaterOrEqual: if let order = order(lhs, rhs) { return order >= 0 } else { return false }
        case .in, .has: return false
        }
    }

    /// The items of a comma-separated list, trimmed, with empty items dropped (`"Disney, Pop Tarts"`).
    static func listItems(_ text: String) -> [Scalar] {
        text.split(separator: ",", omittingEmptySubsequences: false).compactMap { item in
            let trimmed = trimWhitespace(item)
            return trimmed.isEmpty ? nil : Scalar(string: String(trimmed))
        }
    }
}

/// Lower-cases text for case-insensitive comparison, without allocating when it is already lower-case ASCII.
func foldCase(_ text: String) -> String {
    for byte in text.utf8 where byte >= 0x80 || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) {
        return text.lowercased()
    }
    return text
}

/// Trims leading and trailing whitespace (any Unicode white space).
func trimWhitespace(_ text: Substring) -> Substring {
    var start = text.startIndex
    var end = text.endIndex
    while start < end, text[start].isWhitespace { start = text.index(after: start) }
    while end > start, text[text.index(before: end)].isWhitespace { end = text.index(before: end) }
    return text[start..<end]
}

/// The `has` search over a list attribute, done in place.
///
/// A comma-separated string is scanned item by item (split at `,` characters, each item trimmed, empty items skipped,
/// exactly as ``Scalar/listItems(_:)`` splits), and each item is compared where it lies, stopping at the first
/// match. ASCII items (the usual case) are compared without allocating; other items fall back to a ``Scalar``.
enum ListScan {
    /// Whether an item of the comma-separated `text` equals `comparator`.
    static func contains(_ text: String, _ comparator: UnsafePointer<Scalar>) -> Bool {
        var rest = Substring(text)
        while true {
            let end = rest.firstIndex(of: ",") ?? rest.endIndex
            let item = trimWhitespace(rest[rest.startIndex..<end])
            if !item.isEmpty, equals(item, comparator) { return true }
            if end == rest.endIndex { return false }
            rest = rest[rest.index(after: end)...]
        }
    }

    /// Whether an array element equals `comparator`; null, arrays and objects never do.
    static func equals(_ element: JSONValue, _ comparator: UnsafePointer<Scalar>) -> Bool {
        switch element {
        case .string(let string):
            return equals(Substring(string), comparator)
        case .number, .bool:
            var scalar = Scalar(element)!
            return withUnsafePointer(to: &scalar) { Scalar.equal($0, comparator) }
        case .null, .array, .object:
            return false
        }
    }

    /// `Scalar.equal(Scalar(string: String(item)), comparator)`, without building the scalar for ASCII items.
    static func equals(_ item: Substring, _ comparator: UnsafePointer<Scalar>) -> Bool {
        guard item.utf8.allSatisfy({ $0 < 0x80 }) else {
            var scalar = Scalar(string: String(item))
            return withUnsafePointer(to: &scalar) { Scalar.equal($0, comparator) }
        }
        switch comparator.pointee.kind {
        case .number:
            guard let number = numericValue(item) else { return false }
            return number == comparator.pointee.number
        case .bool:
            return asciiEqualsFolded(item, comparator.pointee.truth == .isTrue ? "true" : "false")
        case .string:
            if comparator.pointee.isNumeric, let number = numericValue(item) { return number == comparator.pointee.number }
            return asciiEqualsFolded(item, comparator.pointee.folded)
        }
    }

    /// The number an item spells, as ``NumericText`` reads it.
    private static func numericValue(_ item: Substring) -> Double? {
        if let value = item.utf8.withContiguousStorageIfAvailable({ NumericText.value(of: $0) }) { return value }
        return NumericText.value(of: String(item))
    }

    /// Whether the ASCII `item`, lower-cased, is `folded`.
    private static func asciiEqualsFolded(_ item: Substring, _ folded: String) -> Bool {
        let lhs = item.utf8
        let rhs = folded.utf8
        guard lhs.count == rhs.count else { return false }
        for (byte, other) in zip(lhs, rhs) {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 0x20 : byte
            if lowered != other { return false }
        }
        return true
    }
}
