import HalyardRules

/// What one flag does, in plain words: a one-line summary and its rules, one line per rule group.
///
/// It is the companion of ``ChangeDescription``, which says what a change does; the console shows both. Like that
/// describer it writes plain text with values and variant names in backticks and no HTML, so every output (the
/// console's pages, a terminal) can render it its own way.
///
/// ```swift
/// FlagDescription.summary(flag)
/// // "on for enterprise + 25% of userId", "split 50/50 `compact`/`classic`", "serves `compact` to everybody"
/// ```
public enum FlagDescription {
    /// What the flag serves, in one line.
    public static func summary(_ flag: Flag) -> String {
        switch flag.targeting {
        case .boolean(let baseState, let rules):
            let matched = baseState ? "off" : "on"
            let otherwise = baseState ? "on" : "off"
            if !flag.active || rules.isEmpty { return "\(otherwise) for everybody" }
            if rules.contains(where: \.isEmpty) { return "\(matched) for everybody" }
            return "\(matched) for " + rules.map { audience($0) }.joined(separator: " + ")
        case .typed(_, let defaultVariant, let groups):
            if !flag.active || groups.isEmpty { return "serves `\(defaultVariant)` to everybody" }
            var parts: [String] = []
            for group in groups {
                let who = group.when.isEmpty ? "" : " for " + audience(group.when)
                switch group.outcome {
                case .serve(let name):
                    parts.append(group.when.isEmpty ? "serves `\(name)` to everybody" : "`\(name)`\(who)")
                case .split(let split):
                    parts.append("split \(ChangeDescription.shares(split)) \(ChangeDescription.names(split))\(who)")
                }
                if group.when.isEmpty { return parts.joined(separator: "; ") }
            }
            return parts.joined(separator: "; ") + "; else `\(defaultVariant)`"
        }
    }

    /// The flag's rules in words, one line per rule group (numbered from 1, as `halyard eval --explain` does), then
    /// what everybody else gets.
    public static func rules(_ flag: Flag) -> [String] {
        switch flag.targeting {
        case .boolean(let baseState, let rules):
            if !flag.active { return ["inactive: everybody gets `\(baseState)`"] }
            var lines = rules.enumerated().map { index, group in
                "group \(index + 1): `\(!baseState)` for "
                    + (group.isEmpty ? "everybody" : group.map(ChangeDescription.condition).joined(separator: " and "))
            }
            lines.append((rules.isEmpty ? "everybody" : "everybody else") + ": `\(baseState)` (baseState)")
            return lines
        case .typed(let variants, let defaultVariant, let groups):
            let fallback = ChangeDescription.variant(defaultVariant, of: variants)
            if !flag.active { return ["inactive: everybody gets \(fallback)"] }
            var lines = groups.enumerated().map { index, group in "group \(index + 1): " + ChangeDescription.phrase(group) }
            lines.append((groups.isEmpty ? "everybody" : "everybody else") + ": \(fallback) (default variant)")
            return lines
        }
    }

    /// A group's users, short: "enterprise" for one `==` filter on a string, "25% of userId", "country in NL, BE".
    static func audience(_ when: [Rule]) -> String {
        if when.isEmpty { return "everybody" }
        return when.map { rule in
            switch rule {
            case .filter(_, .equal, .string(let value)) where when.count == 1:
                return value
            case .percentage(let basisPoints, let attribute?):
                return "\(ChangeDescription.percent(basisPoints)) of \(attribute)"
            default:
                return ChangeDescription.condition(rule)
            }
        }.joined(separator: " and ")
    }
}
