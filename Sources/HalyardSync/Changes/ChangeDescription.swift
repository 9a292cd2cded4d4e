import HalyardRules

/// Words a reviewer can act on for one flag's change: what `diff` (every format), `history` and the console print.
///
/// One describer serves every output, so a pull-request comment, the terminal and the JSON say the same thing. Notes
/// mark values and names with backticks and the most consequential change (switching a flag off) in `**bold**`;
/// ``plain(_:)`` drops the bold for text and JSON. Boolean flags keep their wording (switched on or off,
/// `baseState`, rollout, rule groups); typed flags name who is served which variant, how splits move, the default
/// variant and the variants' values.
///
/// ```swift
/// ChangeDescription.changed(from: old, to: new)
/// // ["serves `one-page` to enterprise (was `classic`)", "split 50/50 → 70/30 between `compact`/`classic` for country in NL, BE"]
/// ```
public enum ChangeDescription {
    /// The note for a flag whose only changes are its name, description or metadata.
    public static let metadataOnly = "name, description or metadata only; no evaluation changes"

    /// The longest value text shown in full; longer values (big objects) are cut with `…`.
    public static let maximumValueLength = 60

    /// What a new flag serves.
    public static func added(_ flag: Flag) -> String {
        switch flag.targeting {
        case .boolean(let baseState, let rules):
            if !flag.active { return "inactive: everybody gets `\(baseState)`" }
            return "active, \(groups(rules.count)), baseState `\(baseState)`"
        case .typed(let variants, let defaultVariant, let groups):
            let kind =
                "\(variants.kind.rawValue) variant\(variants.names.count == 1 ? "" : "s") "
                + variants.names.map { "`\($0)`" }.joined(separator: ", ")
            if !flag.active { return "inactive: everybody gets \(variant(defaultVariant, of: variants)); \(kind)" }
            var parts = ["active, \(kind)", "default variant `\(defaultVariant)`"]
            if groups.isEmpty {
                parts.append("no rule groups: everybody gets \(variant(defaultVariant, of: variants))")
            } else {
                parts += groups.prefix(3).map(phrase)
                if groups.count > 3 { parts.append("and \(groups.count - 3) more rule group\(groups.count == 4 ? "" : "s")") }
            }
            return parts.joined(separator: "; ")
        }
    }

    /// What removing a flag does to its users.
    public static func removed(_ flag: Flag?) -> String {
        if let flag, flag.isTyped {
            return "clients get their own default from now on (unknown flag: `FLAG_NOT_FOUND`)"
        }
        return "users get `false` from now on (unknown flag)"
    }

    /// What changed in evaluation between two versions of a flag, one note per change; empty when they evaluate alike.
    public static func changed(from old: Flag, to new: Flag) -> [String] {
        switch (old.targeting, new.targeting) {
        case (.boolean, .boolean):
            return booleanNotes(old, new)
        case (.typed(let oldVariants, let oldDefault, let oldGroups), .typed(let newVariants, let newDefault, let newGroups)):
            var notes: [String] = []
            if old.active != new.active {
                notes.append(
                    new.active
                        ? "**switched on** (active `false` → `true`)"
                        : "**switched off**: everybody gets \(variant(newDefault, of: newVariants))"
                )
            }
            if oldDefault != newDefault { notes.append("default variant `\(oldDefault)` → `\(newDefault)`") }
            notes += variantNotes(oldVariants, newVariants)
            notes += groupNotes(oldGroups, newGroups)
            return notes
        case (.boolean, .typed):
            return ["became a typed flag: \(added(new))"]
        case (.typed, .boolean):
            return ["became a boolean flag: \(added(new))"]
        }
    }

    /// The note without Markdown emphasis, for text and JSON output.
    public static func plain(_ note: String) -> String {
        note.replacing("**", with: "")
    }

    // MARK: - Boolean flags

    private static func booleanNotes(_ old: Flag, _ new: Flag) -> [String] {
        var notes: [String] = []
        if old.active != new.active {
            notes.append(new.active ? "**switched on** (active `false` → `true`)" : "**switched off**: everybody gets `\(new.baseState)`")
        }
        if old.baseState != new.baseState { notes.append("baseState `\(old.baseState)` → `\(new.baseState)`") }
        if old.rules != new.rules {
            let oldPercent = percentages(old.rules)
            let newPercent = percentages(new.rules)
            let rolloutChanged = oldPercent != newPercent && !newPercent.isEmpty
            if rolloutChanged {
                notes.append("rollout " + oldPercent.map(percent).joined(separator: ", ") + " → " + newPercent.map(percent).joined(separator: ", "))
            }
            if old.rules.count != new.rules.count {
                notes.append("rules: \(old.rules.count) → \(new.rules.count) group\(new.rules.count == 1 ? "" : "s")")
            } else if !rolloutChanged {
                notes.append("targeting rules changed")
            }
        }
        return notes
    }

    private static func percentages(_ rules: [[Rule]]) -> [Int] {
        rules.flatMap { $0 }.compactMap { rule in
            if case .percentage(let basisPoints, _) = rule { return basisPoints }
            return nil
        }
    }

    // MARK: - Variants

    private static func variantNotes(_ old: Variants, _ new: Variants) -> [String] {
        var notes: [String] = []
        for name in Set(old.names).union(new.names).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            switch (old[name], new[name]) {
            case (nil, let value?):
                notes.append("variant `\(name)` added (\(valueText(value)))")
            case (_?, nil):
                notes.append("variant `\(name)` removed")
            case (let before?, let after?) where before != after:
                notes.append("variant `\(name)` value \(valueText(before)) → \(valueText(after))")
            default:
                break
            }
        }
        return notes
    }

    /// A variant name with its value: `` `classic` (`"classic"`) ``.
    static func variant(_ name: String, of variants: Variants) -> String {
        guard let value = variants[name] else { return "`\(name)`" }
        return "`\(name)` (\(valueText(value)))"
    }

    /// A value as JSON in backticks, cut with `…` past ``maximumValueLength`` characters.
    public static func valueText(_ value: JSONValue) -> String {
        let text = value.jsonText
        guard text.count > maximumValueLength else { return "`\(text)`" }
        return "`\(text.prefix(maximumValueLength - 1))…`"
    }

    // MARK: - Rule groups

    /// Notes for the rule groups of a typed flag. Groups equal at the start and the end are skipped; what remains is
    /// compared position by position when both sides have as many groups. Otherwise old and new groups are paired by
    /// their `when` rules, then by what they serve, and unpaired groups are reported as removed or new, in order.
    private static func groupNotes(_ old: [RuleGroup], _ new: [RuleGroup]) -> [String] {
        var prefix = 0
        while prefix < min(old.count, new.count), old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < min(old.count, new.count) - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        let oldMiddle = Array(old[prefix..<(old.count - suffix)])
        let newMiddle = Array(new[prefix..<(new.count - suffix)])
        if oldMiddle.count == newMiddle.count {
            return zip(oldMiddle, newMiddle).compactMap { groupNote($0, $1) }
        }
        // For each new group, the old group it replaces.
        var pairs: [Int: Int] = [:]
        var unpaired = Set(oldMiddle.indices)
        for same in [{ (a: RuleGroup, b: RuleGroup) in a.when == b.when }, { (a: RuleGroup, b: RuleGroup) in a.outcome == b.outcome }] {
            for (index, group) in newMiddle.enumerated() where pairs[index] == nil {
                if let match = oldMiddle.indices.first(where: { unpaired.contains($0) && same(oldMiddle[$0], group) }) {
                    pairs[index] = match
                    unpaired.remove(match)
                }
            }
        }
        var notes = ["rule groups: \(old.count) → \(new.count)"]
        notes += unpaired.sorted().map { "no longer " + phrase(oldMiddle[$0]) }
        for (index, group) in newMiddle.enumerated() {
            if let match = pairs[index] {
                if let note = groupNote(oldMiddle[match], group) { notes.append(note) }
            } else {
                notes.append(phrase(group) + " (new rule group)")
            }
        }
        return notes
    }

    /// The note for one group that changed in place; `nil` when it did not change.
    private static func groupNote(_ old: RuleGroup, _ new: RuleGroup) -> String? {
        if old == new { return nil }
        let audience = self.audience(new.when)
        if old.when == new.when {
            switch (old.outcome, new.outcome) {
            case (.serve(let before), .serve(let after)):
                return "serves `\(after)` to \(audience) (was `\(before)`)"
            case (.split(let before), .split(let after)):
                return splitChange(before, after, audience: audience)
            case (.serve(let before), .split(let after)):
                return "splits \(audience) \(shares(after)) between \(names(after)) (was `\(before)`)"
            case (.split(let before), .serve(let after)):
                return "serves `\(after)` to \(audience) (was split \(shares(before)) between \(names(before)))"
            }
        }
        let was = self.audience(old.when)
        if old.outcome == new.outcome {
            switch new.outcome {
            case .serve(let name):
                return "serves `\(name)` to \(audience) (was to \(was))"
            case .split(let split):
                return "split \(shares(split)) between \(names(split)) now for \(audience) (was for \(was))"
            }
        }
        return phrase(new) + " (was: " + phrase(old) + ")"
    }

    /// How a split that kept its `when` rules changed.
    private static func splitChange(_ old: Split, _ new: Split, audience: String) -> String {
        var parts: [String] = []
        if old.allocations.map(\.variant) == new.allocations.map(\.variant) {
            if old.allocations != new.allocations {
                parts.append("split \(shares(old)) → \(shares(new)) between \(names(new)) for \(audience)")
            }
        } else {
            parts.append("split for \(audience): \(shares(old)) between \(names(old)) → \(shares(new)) between \(names(new))")
        }
        if old.attribute != new.attribute {
            let subject = parts.isEmpty ? "split for \(audience): " : ""
            parts.append(subject + "bucketed by `\(new.attribute)` (was `\(old.attribute)`), so users are split anew")
        }
        return parts.joined(separator: "; ")
    }

    /// What a group serves to whom: "serves `one-page` to enterprise", "splits everybody 50/50 between `a`/`b`".
    public static func phrase(_ group: RuleGroup) -> String {
        let audience = self.audience(group.when)
        switch group.outcome {
        case .serve(let name):
            return "serves `\(name)` to \(audience)"
        case .split(let split):
            return "splits \(audience) \(shares(split)) between \(names(split)) by `\(split.attribute)`"
        }
    }

    /// The users a group's `when` rules select, in words: "everybody", "enterprise" (one `==` filter on a string),
    /// "country in NL, BE and 25% of users by userId".
    public static func audience(_ when: [Rule]) -> String {
        if when.isEmpty { return "everybody" }
        if when.count == 1, case .filter(_, .equal, .string(let value)) = when[0] { return value }
        return when.map(condition).joined(separator: " and ")
    }

    static func condition(_ rule: Rule) -> String {
        switch rule {
        case .everybody:
            return "everybody"
        case .nobody:
            return "nobody"
        case .filter(let attribute, let op, let comparator):
            return "\(attribute) \(op.rawValue) \(comparatorText(comparator))"
        case .percentage(let basisPoints, let attribute?):
            return "\(percent(basisPoints)) of users by \(attribute)"
        case .percentage(let basisPoints, nil):
            return "\(percent(basisPoints)) of users"
        }
    }

    private static func comparatorText(_ comparator: JSONValue) -> String {
        switch comparator {
        case .string(let text): text
        case .array(let items): items.map(comparatorText).joined(separator: ", ")
        default: comparator.jsonText
        }
    }

    /// The shares of a split: "50/50", "33.33/33.33/33.34".
    public static func shares(_ split: Split) -> String {
        split.allocations.map { number($0.basisPoints) }.joined(separator: "/")
    }

    /// The variants of a split, in order: "`compact`/`classic`".
    static func names(_ split: Split) -> String {
        split.allocations.map { "`\($0.variant)`" }.joined(separator: "/")
    }

    private static func groups(_ count: Int) -> String {
        "\(count) rule group\(count == 1 ? "" : "s")"
    }

    /// Basis points as a percentage: "25%", "12.5%".
    public static func percent(_ basisPoints: Int) -> String {
        number(basisPoints) + "%"
    }

    static func number(_ basisPoints: Int) -> String {
        basisPoints % 100 == 0 ? "\(basisPoints / 100)" : "\(Double(basisPoints) / 100)"
    }
}
