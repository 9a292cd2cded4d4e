/// What a flag serves to whom: the part of a flag that evaluation reads, besides `active`.
///
/// A flag is either a boolean flag in Semaphore's format (`baseState` and groups of rules) or a typed flag (named
/// variants, a default variant and rule groups that serve or split). Two flags with equal targeting and equal
/// `active` evaluate the same for every user, which is what makes a change effective (DESIGN §4).
public enum Targeting: Sendable, Hashable {
    /// A boolean flag: selected users get `!baseState`, everybody else `baseState`. `rules` is OR over groups, AND
    /// inside a group; `[]` selects nobody and `[[]]` everybody.
    case boolean(baseState: Bool, rules: [[Rule]])
    /// A typed flag: the first matching group serves or splits; `defaultVariant` otherwise and when inactive.
    case typed(variants: Variants, defaultVariant: String, groups: [RuleGroup])
}
