/// What each rule group of a flag gives, and what the flag gives when no group decides, ready to evaluate.
///
/// Boolean flags give `!baseState` (variant `on`, index 0) for any matching group and `baseState` (`off`, index 1)
/// otherwise. Typed flags serve a variant or split between several; variants are numbered in name order. Evaluation
/// only produces indices (``Resolution``); names and values are read from the tables here when someone asks.
struct CompiledOutcomes: Sendable {
    private enum Outcome: Sendable {
        case serve(Int)
        case split(CompiledSplit)
    }

    private let names: [String]
    private let values: [JSONValue]
    /// Per group, for typed flags; empty for boolean flags, whose matching groups all give variant 0.
    private let outcomes: [Outcome]
    /// The variant given when no group decides, when the flag is inactive and when it has no groups. 32 bits, beside
    /// ``booleans``, so that the tables take 32 bytes in every flag rather than 40.
    private let fallbackIndex: Int32
    /// The boolean value of each variant, for boolean flags; `false` for typed flags.
    private let booleans: (Bool, Bool)

    /// The names and the two possible value tables of boolean flags, shared by all of them rather than allocated per
    /// flag (three arrays per flag were 2 MB of a 30,000-flag snapshot).
    private static let booleanNames = ["on", "off"]
    private static let offIsFalse: [JSONValue] = [.bool(true), .bool(false)]
    private static let offIsTrue: [JSONValue] = [.bool(false), .bool(true)]

    /// A boolean flag's outcomes: `on` is `!baseState`, `off` is `baseState`.
    init(baseState: Bool) {
        names = Self.booleanNames
        values = baseState ? Self.offIsTrue : Self.offIsFalse
        fallbackIndex = 1
        outcomes = []
        booleans = (!baseState, baseState)
    }

    /// A typed flag's outcomes. Names that are not variants (which the decoder rejects) serve the default.
    init(flagID: String, variants: Variants, defaultVariant: String, groups: [RuleGroup]) {
        precondition(!variants.names.isEmpty, "a typed flag has at least one variant")
        names = variants.names
        values = variants.names.map { variants.values[$0]! }
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() { indexByName[name] = index }
        let fallback = indexByName[defaultVariant] ?? 0
        fallbackIndex = Int32(fallback)
        var prefix = MurmurHash3x86_32()
        prefix.combine(flagID.utf8)
        prefix.combine(UInt8(ascii: ":"))
        outcomes = groups.map { group in
            switch group.outcome {
            case .serve(let name):
                return .serve(indexByName[name] ?? fallback)
            case .split(let split):
                return .split(CompiledSplit(split, prefix: prefix, indexByName: indexByName, fallback: fallback))
            }
        }
        booleans = (false, false)
    }

    /// The resolution when no group decides, with the given reason.
    @inline(__always)
    func fallback(_ reason: Evaluation.Reason) -> Resolution {
        Resolution(variantIndex: Int(fallbackIndex), reason: reason)
    }

    /// The resolution that a matching group gives, or `nil` when it is a split and the user lacks its attribute.
    @inline(__always)
    func outcome(of group: Int, _ context: EvaluationContext) -> Resolution? {
        if outcomes.isEmpty { return Resolution(variantIndex: 0, reason: .targetingMatch, group: group) }
        switch outcomes[group] {
        case .serve(let index):
            return Resolution(variantIndex: index, reason: .targetingMatch, group: group)
        case .split(let split):
            guard let index = split.variantIndex(context) else { return nil }
            return Resolution(variantIndex: index, reason: .split, group: group)
        }
    }

    /// The value of a resolved variant.
    @inline(__always)
    func value(_ resolution: Resolution) -> JSONValue { values[Int(resolution.variantIndex)] }

    /// The name of a resolved variant.
    @inline(__always)
    func name(_ resolution: Resolution) -> String { names[Int(resolution.variantIndex)] }

    /// A boolean flag's value for a resolution, without touching the tables; `false` for typed flags.
    @inline(__always)
    func bool(_ resolution: Resolution) -> Bool { resolution.variantIndex == 0 ? booleans.0 : booleans.1 }
}

/// A split ready to evaluate: the attribute, the hash state after `"<flagId>:"`, and the bucket ranges.
struct CompiledSplit: Sendable {
    private let key: AttributeKey
    private let prefix: MurmurHash3x86_32
    /// For each allocation, the bucket just past its range, in order.
    private let ends: [UInt32]
    /// For each allocation, its variant's index.
    private let variants: [Int]

    init(_ split: Split, prefix: MurmurHash3x86_32, indexByName: [String: Int], fallback: Int) {
        key = AttributeKey(split.attribute)
        self.prefix = prefix
        var end = 0
        var ends: [UInt32] = []
        for allocation in split.allocations {
            end += min(max(allocation.basisPoints, 0), 10_000)
            ends.append(UInt32(min(end, 10_000)))
        }
        self.ends = ends
        variants = split.allocations.map { indexByName[$0.variant] ?? fallback }
    }

    /// The index of the user's variant, or `nil` when the attribute is missing, null, an array or an object (or the
    /// allocations do not cover the user's bucket, which the decoder rules out).
    @inline(__always)
    func variantIndex(_ context: EvaluationContext) -> Int? {
        let found: Int?? = withUnsafePointer(to: key) { key in
            guard let attribute = context.table.attribute(key) else { return nil }
            var hasher = prefix
            guard StickyText.combine(attribute.pointee.value, into: &hasher) else { return nil }
            let bucket = hasher.finalize() % 10_000
            for index in ends.indices where bucket < ends[index] { return .some(variants[index]) }
            return .some(nil)
        }
        return found ?? nil
    }
}
