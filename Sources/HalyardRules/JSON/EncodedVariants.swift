/// A flag's variants as JSON text, encoded once and indexed like the flag's resolutions.
///
/// Bulk answers (every flag of an environment for one user) would otherwise encode each flag's value and variant name
/// on every request, which costs far more than evaluating the flag. A flag has few variants (a boolean flag two, `on`
/// and `off`), so their text is written here once per flag, and a resolution picks its variant's text by
/// ``index(of:)``: copying bytes instead of walking a ``JSONValue`` and escaping a string.
///
/// The text is exactly what ``JSONWriter/json(_:)`` writes for ``Flag/value(of:)`` and ``JSONWriter/string(_:)`` for
/// ``Flag/variant(of:)``, so answers built from it are byte for byte those built value by value.
///
/// ```swift
/// let variants = EncodedVariants(flag)
/// let resolution = flag.resolve(context)
/// let value = variants.values[EncodedVariants.index(of: resolution)]   // "true", "\"blue\"", "{\"limit\":5}"
/// ```
public struct EncodedVariants: Sendable {
    /// The canonical JSON text of each variant's value (``JSONWriter/appendCanonical(_:to:)``).
    public let values: [[UInt8]]
    /// Each variant's name as a JSON string literal, quotes included (`"on"`, `"off"`, `"blue"`).
    public let names: [[UInt8]]

    /// Encodes every variant of `flag`: `on` and `off` for a boolean flag, the typed flag's variants in name order.
    public init(_ flag: Flag) {
        let count: Int
        switch flag.targeting {
        case .boolean: count = 2
        case .typed(let variants, _, _): count = max(variants.names.count, 1)
        }
        var values: [[UInt8]] = []
        var names: [[UInt8]] = []
        values.reserveCapacity(count)
        names.reserveCapacity(count)
        for index in 0..<count {
            let resolution = Resolution(variantIndex: index, reason: .staticValue)
            var value: [UInt8] = []
            JSONWriter.appendCanonical(flag.value(of: resolution), to: &value)
            values.append(value)
            var name: [UInt8] = []
            JSONWriter.appendQuoted(flag.variant(of: resolution), to: &name)
            names.append(name)
        }
        self.values = values
        self.names = names
    }

    /// The position of a resolution's variant in ``values`` and ``names``; the resolution must be of the flag these
    /// variants were encoded from.
    @inline(__always)
    public static func index(of resolution: Resolution) -> Int { Int(resolution.variantIndex) }
}
