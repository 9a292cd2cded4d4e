/// A validated, normalised flag, compiled once for fast evaluation.
///
/// A `Flag` holds the flag file's meaning, not its text: rules are in the 1.0 grouped form (0.2 files are
/// normalised), `name` defaults to the id and `baseState` to `false`. Two files that differ only in formatting, key
/// order or syntax version decode to equal flags. The rules are also compiled (see ``evaluate(_:)``), once, in `init`.
///
/// ```swift
/// let result = FlagDecoder.decode(bytes, id: "new-checkout", file: "flags/production/new-checkout.json")
/// if let flag = result.flag {
///     let on = flag.evaluate(EvaluationContext(["plan": "enterprise"])).value
/// }
/// ```
public struct Flag: Sendable {
    /// The flag id: the file name without `.json`.
    public let id: String
    /// The display name; the id when the file has none.
    public let name: String
    /// Free text; empty when the file has none.
    public let description: String
    /// Whether targeting is on. An inactive flag gives every user `baseState`.
    public let active: Bool
    /// The value for users whom no rule group selects; selected users get `!baseState`.
    public let baseState: Bool
    /// Rule groups: a user is selected when every rule of some group is true. `[]` selects nobody, `[[]]` everybody.
    public let rules: [[Rule]]
    /// Free-form data that never affects evaluation.
    public let metadata: [String: JSONValue]

    private let compiled: CompiledRules

    /// Creates and compiles a flag. The rules are taken as they are; ``FlagDecoder`` is what validates files.
    public init(
        id: String,
        name: String? = nil,
        description: String = "",
        active: Bool,
        baseState: Bool = false,
        rules: [[Rule]],
        metadata: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.name = name ?? id
        self.description = description
        self.active = active
        self.baseState = baseState
        self.rules = rules
        self.metadata = metadata
        self.compiled = CompiledRules(flagID: id, rules: rules)
    }

    /// Whether the two flags evaluate the same for every user: same `active`, `baseState` and normalised `rules`
    /// (DESIGN §4 "changed").
    ///
    /// Sticky `%` buckets depend on the flag id too, so compare flags with the same id.
    public func hasSameTargeting(as other: Flag) -> Bool {
        active == other.active && baseState == other.baseState && rules == other.rules
    }

    /// Whether the two flags have the same name, description and metadata (DESIGN §4 "metadataChanged").
    public func hasSameDescriptiveFields(as other: Flag) -> Bool {
        name == other.name && description == other.description && metadata == other.metadata
    }

    /// The normalised form for the HTTP API:
    /// `{"id", "name", "description", "active", "baseState", "rules", "metadata"}`, with `rules` in the 1.0 grouped
    /// form and percentages as numbers (`25`, `12.5`).
    public var normalizedJSON: JSONValue {
        .object([
            "id": .string(id),
            "name": .string(name),
            "description": .string(description),
            "active": .bool(active),
            "baseState": .bool(baseState),
            "rules": .array(rules.map { group in .array(group.map(\.jsonValue)) }),
            "metadata": .object(metadata),
        ])
    }

    /// Evaluates the flag for one user (DESIGN §2).
    ///
    /// An inactive flag gives `baseState` (``Evaluation/Reason/disabled``); otherwise the first group whose rules are
    /// all true gives `!baseState` (``Evaluation/Reason/targetingMatch``), and no matching group gives `baseState`
    /// (``Evaluation/Reason/default``).
    @inline(__always)
    public func evaluate(_ context: EvaluationContext) -> Evaluation {
        guard active else { return Evaluation(value: baseState, reason: .disabled) }
        if let group = compiled.firstMatchingGroup(context) {
            return Evaluation(value: !baseState, reason: .targetingMatch, matchedGroup: group)
        }
        return Evaluation(value: baseState, reason: .default)
    }
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
        hasher.combine(baseState)
        hasher.combine(rules)
    }
}
