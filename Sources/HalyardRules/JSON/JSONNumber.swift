/// A JSON number: its value as a `Double`, and the exact text it was written with when that text says more.
///
/// Rules compare numbers as `Double`s, as JavaScript and Semaphore's Lucee runtime do. A typed flag, though, serves
/// a number as a value, and clients read its form: `10` is an integer and `10.0` a float to an OpenFeature SDK, and an
/// integer past 2^53 must not be rounded on the way. So a parsed number keeps its literal text whenever the shortest
/// form of its `Double` (``JSONWriter/appendNumber(_:to:)``) would write it differently, and every writer writes that
/// text. Numbers whose text is already the shortest form, almost all of them, carry no text and cost nothing extra.
///
/// Two numbers are equal when both their value and their written form are: `10` and `10.0` are different values
/// of a typed flag.
public struct JSONNumber: Sendable, Hashable {
    /// The number's value.
    public let double: Double
    /// The exact text, when it differs from the shortest form of ``double``.
    private let literal: Literal?

    /// A number with the shortest written form of `value`.
    public init(_ value: Double) {
        self.double = value
        self.literal = nil
    }

    /// A number written as `text`, which must be valid JSON number syntax that parses to `value`.
    init(_ value: Double, text: UnsafeBufferPointer<UInt8>) {
        self.double = value
        var shortest: [UInt8] = []
        shortest.reserveCapacity(24)
        JSONNumberFormatting.append(value, to: &shortest)
        self.literal = shortest.elementsEqual(text) ? nil : Literal(String(decoding: text, as: UTF8.self))
    }

    /// The number as it is written in JSON: its literal text if it has one, else the shortest form.
    public var text: String {
        literal?.text ?? JSONNumberFormatting.shortest(double)
    }

    /// Whether the number is written as an integer: no fraction and no exponent (`10`, `-3`, `9007199254740993`).
    public var isInteger: Bool {
        guard let literal else { return double.isFinite && double == double.rounded(.towardZero) && double.magnitude < 1e21 }
        return !literal.text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The exact integer, when the number is written as an integer that fits in 64 bits.
    public var int64: Int64? {
        guard isInteger else { return nil }
        if let literal { return Int64(literal.text) }
        return Int64(exactly: double)
    }

    /// Appends the number as JSON text.
    func append(to bytes: inout [UInt8]) {
        if let literal {
            bytes.append(contentsOf: literal.text.utf8)
        } else {
            JSONNumberFormatting.append(double, to: &bytes)
        }
    }

    /// The literal text, boxed so that a number stays as small as a `Double` and a reference.
    private final class Literal: Sendable, Hashable {
        let text: String
        init(_ text: String) { self.text = text }
        static func == (lhs: Literal, rhs: Literal) -> Bool { lhs.text == rhs.text }
        func hash(into hasher: inout Hasher) { hasher.combine(text) }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// A number from an integer literal.
    public init(integerLiteral value: Int) { self.init(Double(value)) }
    /// A number from a float literal, written in its shortest form (`10.0` is written `10`).
    public init(floatLiteral value: Double) { self.init(value) }
}

extension JSONNumber: CustomStringConvertible {
    /// The number as JSON text (``text``).
    public var description: String { text }
}
