/// What a flag serves when it serves one value to everybody, and why: the sign of a flag whose rollout is over
/// (DESIGN §14 "Stale flags").
///
/// ```swift
/// if let uniform = flag.uniformServing {
///     print("\(flag.id) serves \(uniform.value.jsonText) to everybody (\(uniform.reason.rawValue))")
/// }
/// ```
public struct UniformServing: Sendable, Hashable {
    /// Why every user gets the same value.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The flag is inactive: `baseState` (typed flags: `defaultVariant`) for everybody.
        case inactive
        /// Active, but no rule group can match (`"rules": []`, or every group has a `nobody` or 0 % rule).
        case nobodySelected = "nobody-selected"
        /// Active, and a rule group matches everybody (`[[]]`, `everybody`, a 100 % rollout).
        case everybodySelected = "everybody-selected"
        /// An active typed flag with no rule groups: its `defaultVariant`, always.
        case noGroups = "no-groups"
        /// An active typed flag whose groups that can match all serve the one variant it serves otherwise.
        case oneVariant = "one-variant"
    }

    /// Why every user gets the same value.
    public let reason: Reason
    /// The value every user gets: `true`/`false`, or the typed variant's value.
    public let value: JSONValue
    /// The typed variant's name; nil for a boolean flag.
    public let variant: String?

    /// Creates a finding.
    public init(reason: Reason, value: JSONValue, variant: String?) {
        self.reason = reason
        self.value = value
        self.variant = variant
    }
}

extension Flag {
    /// Whether every user gets the same value from this flag, whatever their attributes.
    public var servesOneValueToEverybody: Bool { uniformServing != nil }

    /// The one value this flag serves to everybody, with the reason; nil when users can get different values.
    ///
    /// A 100 % rollout counts as everybody even when it buckets by an attribute, which users without that attribute
    /// do not match: the rollout is over. Only rules that are true or false whatever the user (`everybody`,
    /// `nobody`, 0 % and 100 %) are looked at; a filter rule is taken to select some users and not others.
    public var uniformServing: UniformServing? {
        switch targeting {
        case .boolean(let baseState, let rules):
            if !active { return UniformServing(reason: .inactive, value: .bool(baseState), variant: nil) }
            let outcomes = rules.map(Self.truth(of:))
            if outcomes.contains(true) { return UniformServing(reason: .everybodySelected, value: .bool(!baseState), variant: nil) }
            if outcomes.allSatisfy({ $0 == false }) { return UniformServing(reason: .nobodySelected, value: .bool(baseState), variant: nil) }
            return nil
        case .typed(let variants, let defaultVariant, let groups):
            let fallback = UniformServing(reason: .inactive, value: variants.values[defaultVariant] ?? .null, variant: defaultVariant)
            if !active { return fallback }
            if groups.isEmpty { return UniformServing(reason: .noGroups, value: fallback.value, variant: defaultVariant) }
            return Self.typedUniform(variants: variants, defaultVariant: defaultVariant, groups: groups)
        }
    }

    /// An active typed flag's one value: every group that can match, up to the first that always matches, serves
    /// the same variant, which is also the default unless a group always matches.
    private static func typedUniform(variants: Variants, defaultVariant: String, groups: [RuleGroup]) -> UniformServing? {
        var served: String?
        var sawReachable = false
        var everybody = false
        for group in groups {
            let truth = truth(of: group.when)
            if truth == false { continue }
            sawReachable = true
            guard let variant = onlyVariant(of: group.outcome) else { return nil }
            if let served, served != variant { return nil }
            served = variant
            if truth == true {
                everybody = true
                break
            }
        }
        guard sawReachable, let served else {
            return UniformServing(reason: .nobodySelected, value: variants.values[defaultVariant] ?? .null, variant: defaultVariant)
        }
        if !everybody && served != defaultVariant { return nil }
        return UniformServing(
            reason: everybody && served != defaultVariant ? .everybodySelected : .oneVariant,
            value: variants.values[served] ?? .null,
            variant: served
        )
    }

    /// The one variant a group gives every user it matches; nil for a split between several variants.
    private static func onlyVariant(of outcome: RuleGroup.Outcome) -> String? {
        switch outcome {
        case .serve(let variant):
            return variant
        case .split(let split):
            let shares = split.allocations.filter { $0.basisPoints > 0 }
            return shares.count == 1 ? shares[0].variant : nil
        }
    }

    /// Whether a group (all rules true) matches everybody (`true`), nobody (`false`) or depends on the user (nil).
    private static func truth(of group: [Rule]) -> Bool? {
        var all = true
        for rule in group {
            switch truth(of: rule) {
            case false?: return false
            case nil: all = false
            case true?: break
            }
        }
        return all ? true : nil
    }

    /// Whether a rule is true for everybody, for nobody, or depends on the user (nil).
    private static func truth(of rule: Rule) -> Bool? {
        switch rule {
        case .everybody: return true
        case .nobody: return false
        case .percentage(let basisPoints, let attribute):
            if basisPoints >= 10_000 { return true }
            // A sticky 0 % matches nobody; Semaphore's `bucket <= 0` can still match a bucket of exactly 0.
            if basisPoints <= 0 && attribute != nil { return false }
            return nil
        case .filter: return nil
        }
    }
}
