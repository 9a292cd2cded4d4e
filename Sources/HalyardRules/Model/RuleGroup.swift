/// One rule group of a typed flag: when its rules are all true, it serves a variant or splits users between several.
///
/// Typed flags write their groups as objects (`{"when": [...], "serve": "one-page"}`), so that each group says what it
/// serves; the first matching group decides (DESIGN §1, §2).
public struct RuleGroup: Sendable, Hashable {
    /// What a matching group gives the user.
    public enum Outcome: Sendable, Hashable {
        /// One variant, by name, for every matching user.
        case serve(String)
        /// A sticky split of matching users between variants.
        case split(Split)
    }

    /// The rules that must all be true for the group to match; `[]` matches everybody.
    public let when: [Rule]
    /// What the group serves.
    public let outcome: Outcome

    /// Creates a group.
    public init(when: [Rule], outcome: Outcome) {
        self.when = when
        self.outcome = outcome
    }

    /// Creates a group that serves one variant.
    public init(when: [Rule], serve variant: String) {
        self.init(when: when, outcome: .serve(variant))
    }

    /// Creates a group that splits users.
    public init(when: [Rule], split: Split) {
        self.init(when: when, outcome: .split(split))
    }
}

/// A sticky percentage split between variants (`"split": {"attribute": "userId", "variants": [...]}`).
///
/// A user's bucket is the one `%` rules use (DESIGN §2): MurmurHash3 of `"<flagId>:<attribute value>"` modulo 10,000.
/// The allocations take consecutive bucket ranges in list order, so raising one percentage at the expense of the next
/// moves only the users in between, and a user gets the same variant in every environment.
public struct Split: Sendable, Hashable {
    /// One variant's share of the split.
    public struct Allocation: Sendable, Hashable {
        /// The variant name.
        public let variant: String
        /// The share in basis points (`percentage × 100`), exact because a percentage has at most two decimals.
        public let basisPoints: Int

        /// Creates an allocation.
        public init(variant: String, basisPoints: Int) {
            self.variant = variant
            self.basisPoints = basisPoints
        }

        /// The share as a percentage (`50`, `33.33`).
        public var percentage: Double { Double(basisPoints) / 100 }
    }

    /// The user attribute whose value is bucketed; a user without it (or with an array, object or null value) does
    /// not match the group.
    public let attribute: String
    /// The shares, in order; the decoder checks that they add up to 10,000 basis points.
    public let allocations: [Allocation]

    /// Creates a split.
    public init(attribute: String, allocations: [Allocation]) {
        self.attribute = attribute
        self.allocations = allocations
    }
}
