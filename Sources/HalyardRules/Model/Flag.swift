/// A validated, normalised flag, compiled once for fast evaluation.
///
/// A `Flag` holds the flag file's meaning, not its text: rules are in the 1.0 grouped form (0.2 files are
/// normalised), `name` defaults to the id and `baseState` to `false`. A flag is boolean or typed (``Targeting``).
/// Two files that differ only in formatting, key order or syntax version decode to equal flags. The rules are also compiled (see ``evaluate(_:)``), once, in `init`.
///
/// ```swift
/// let result = FlagDecoder.decode(bytes, id: "new-checkout", file: "flags/production/new-checkout.json")
/// if let flag = result.flag {
///     let value = flag.evaluate(EvaluationContext(["plan": "enterprise"])).value  // true, or "one-page"
/// }
/// ```
public struct Flag: Sendable {
    /// The flag id: the file name without `.json`.
    public let id: String
    /// The display name; the id when the file has none.
    public let name: String
    /// Free text; empty when the file has none.
    public let description: String
    /// Whether targeting is on. An inactive flag gives every user `baseState` (typed flags: `defaultVariant`).
    public let active: Bool
    /// A boolean flag's `baseState`; `false` for a typed flag. Declared beside `active`, so the two share a word.
    private let booleanBaseState: Bool
    /// Free-form data that never affects evaluation.
    public let metadata: [String: JSONValue]

    /// A boolean flag's groups; `[]` for a typed flag.
    private let booleanRules: [[Rule]]
    /// A typed flag's variants, default and groups; nil for a boolean flag.
    private let typed: TypedTargeting?

    private let compiled: CompiledRules
    private let outcomes: CompiledOutcomes

    /// The fields of `Targeting.typed`, kept as plain stored fields: a flag does not keep its targeting as the
    /// multi-payload enum, whose case Swift stores in the spare bits of the payload's pointers (which leak checkers
    /// such as LeakSanitizer do not recognise as references).
    private struct TypedTargeting: Sendable {
        let variants: Variants
        let defaultVariant: String
        let groups: [RuleGroup]
    }

    /// What the flag serves to whom: boolean or typed.
    public var targeting: Targeting {
        if let typed { return .typed(variants: typed.variants, defaultVariant: typed.defaultVariant, groups: typed.groups) }
        return .boolean(baseState: booleanBaseState, rules: booleanRules)
    }

    /// Creates and compiles a boolean flag. The rules are taken as they are; ``FlagDecoder`` is what validates files.
    public init(
        id: String,
        name: String? = nil,
        description: String = "",
        active: Bool,
        baseState: Bool = false,
        rules: [[Rule]],
        metadata: [String: JSONValue] = [:]
    ) {
        self.init(id: id, name: name, description: description, active: active, targeting: .boolean(baseState: baseState, rules: rules), metadata: metadata)
    }

    /// Creates and compiles a typed flag. The variants and groups are taken as they are; ``FlagDecoder`` is what
    /// validates files (every name that `defaultVariant`, `serve` and `split` use must be a variant).
    public init(
        id: String,
        name: String? = nil,
        description: String = "",
        active: Bool,
        variants: Variants,
        defaultVariant: String,
        groups: [RuleGroup],
        metadata: [String: JSONValue] = [:]
    ) {
        self.init(
            id: id, name: name, description: description, active: active,
            targeting: .typed(variants: variants, defaultVariant: defaultVariant, groups: groups), metadata: metadata)
    }

    /// Creates and compiles a flag of either kind.
    public init(id: String, name: String? = nil, description: String = "", active: Bool, targeting: Targeting, metadata: [String: JSONValue] = [:]) {
        self.id = id
        self.name = name ?? id
        self.description = description
        self.active = active
        self.metadata = metadata
        switch targeting {
        case .boolean(let baseState, let rules):
            booleanBaseState = baseState
            booleanRules = rules
            typed = nil
            compiled = CompiledRules(flagID: id, rules: rules)
            outcomes = CompiledOutcomes(baseState: baseState)
        case .typed(let variants, let defaultVariant, let groups):
            booleanBaseState = false
            booleanRules = []
            typed = TypedTargeting(variants: variants, defaultVariant: defaultVariant, groups: groups)
            compiled = CompiledRules(flagID: id, rules: groups.map(\.when))
            outcomes = CompiledOutcomes(flagID: id, variants: variants, defaultVariant: defaultVariant, groups: groups)
        }
    }

    /// Whether this is a typed flag (it has `variants`).
    public var isTyped: Bool { typed != nil }

    /// A boolean flag's `baseState`; `false` for a typed flag, which has `defaultVariant` instead.
    public var baseState: Bool { booleanBaseState }

    /// A boolean flag's rule groups; `[]` for a typed flag, whose groups are in ``targeting``.
    public var rules: [[Rule]] { booleanRules }

    /// The number of rule groups, of either kind.
    public var groupCount: Int { typed?.groups.count ?? booleanRules.count }

    /// Whether the two flags evaluate the same for every user: same `active` and targeting (`baseState` and normalised
    /// `rules`, or `variants`, `defaultVariant` and groups), DESIGN §4 "changed".
    ///
    /// Sticky `%` buckets depend on the flag id too, so compare flags with the same id.
    public func hasSameTargeting(as other: Flag) -> Bool {
        guard active == other.active else { return false }
        switch (typed, other.typed) {
        case (nil, nil):
            return booleanBaseState == other.booleanBaseState && booleanRules == other.booleanRules
        case (let lhs?, let rhs?):
            return lhs.variants == rhs.variants && lhs.defaultVariant == rhs.defaultVariant && lhs.groups == rhs.groups
        default:
            return false
        }
    }

    /// Whether the two flags have the same name, description and metadata (DESIGN §4 "metadataChanged").
    public func hasSameDescriptiveFields(as other: Flag) -> Bool {
        name == other.name && description == other.description && metadata == other.metadata
    }

    /// The normalised form for the HTTP API. A boolean flag is
    /// `{"id", "name", "description", "active", "baseState", "rules", "metadata"}` with `rules` in the 1.0 grouped form
    /// and percentages as numbers (`25`, `12.5`); a typed flag has `variants` and `defaultVariant` instead of
    /// `baseState`, and `rules` as group objects (`{"when": [...], "serve": name}` or `{"when": [...], "split": {...}}`).
    public var normalizedJSON: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id),
            "name": .string(name),
            "description": .string(description),
            "active": .bool(active),
            "metadata": .object(metadata),
        ]
        switch targeting {
        case .boolean(let baseState, let rules):
            members["baseState"] = .bool(baseState)
            members["rules"] = .array(rules.map { group in .array(group.map(\.jsonValue)) })
        case .typed(let variants, let defaultVariant, let groups):
            members["variants"] = .object(variants.values)
            members["defaultVariant"] = .string(defaultVariant)
            members["rules"] = .array(groups.map(\.jsonValue))
        }
        return .object(members)
    }

    /// Evaluates the flag for one user (DESIGN §2): the value, the variant and why.
    ///
    /// An inactive flag gives `baseState` / `defaultVariant` (``Evaluation/Reason/disabled``); an active flag without
    /// groups gives the same (``Evaluation/Reason/staticValue``). Otherwise the first group whose rules are all true
    /// decides: a boolean flag's user gets `!baseState` and a typed flag's the served variant
    /// (``Evaluation/Reason/targetingMatch``) or the split's (``Evaluation/Reason/split``). A split group whose
    /// attribute the user lacks does not match, and evaluation goes on with the next group. No matching group gives
    /// the default (``Evaluation/Reason/default``).
    @inline(__always)
    public func evaluate(_ context: EvaluationContext) -> Evaluation {
        let resolution = resolve(context)
        return Evaluation(
            value: outcomes.value(resolution), variant: outcomes.name(resolution), reason: resolution.reason,
            matchedGroup: resolution.matchedGroup)
    }

    /// Evaluates the flag for one user, as ``evaluate(_:)`` does, but returns only which variant and why: plain values
    /// that cost nothing to copy. Read the value with ``value(of:)`` or ``bool(of:)`` and the name with
    /// ``variant(of:)``.
    @inline(__always)
    public func resolve(_ context: EvaluationContext) -> Resolution {
        guard active else { return outcomes.fallback(Evaluation.Reason.disabled) }
        if compiled.isEmpty { return outcomes.fallback(Evaluation.Reason.staticValue) }
        var start = 0
        while let group = compiled.firstMatchingGroup(context, from: start) {
            if let resolution = outcomes.outcome(of: group, context) { return resolution }
            start = group + 1
        }
        return outcomes.fallback(Evaluation.Reason.default)
    }

    /// The value of a resolution of this flag: a boolean, or a typed flag's variant value.
    @inline(__always)
    public func value(of resolution: Resolution) -> JSONValue { outcomes.value(resolution) }

    /// The variant name of a resolution of this flag (`on`/`off` for a boolean flag).
    @inline(__always)
    public func variant(of resolution: Resolution) -> String { outcomes.name(resolution) }

    /// A boolean flag's value for a resolution of it, read without copying a JSON value; `false` for a typed flag.
    @inline(__always)
    public func bool(of resolution: Resolution) -> Bool { outcomes.bool(resolution) }
}

extension Flag: Hashable {
    /// Flags are equal when every public field is; the compiled form follows from them.
    public static func == (lhs: Flag, rhs: Flag) -> Bool {
        lhs.id == rhs.id && lhs.hasSameTargeting(as: rhs) && lhs.hasSameDescriptiveFields(as: rhs)
    }

    /// Hashes the id and the targeting fields.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(active)
        hasher.combine(targeting)
    }
}
