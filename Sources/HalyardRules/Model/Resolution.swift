/// The outcome of evaluating one flag for one user, in plain values: which variant and why.
///
/// ``Flag/evaluate(_:)`` returns an ``Evaluation``, which carries the value and the variant name: convenient, but a
/// JSON value and a string are copied out and destroyed with every call. Hot paths (the bulk `/evaluate` route, OFREP,
/// the client SDK's `bool`) call ``Flag/resolve(_:)`` instead, which returns this trivially copyable value, and read
/// the value or the name from the flag only when they need it (``Flag/value(of:)``, ``Flag/variant(of:)``).
///
/// A resolution belongs to the flag that produced it; asking another flag about it gives meaningless answers.
public struct Resolution: Sendable, Hashable {
    /// Why the flag resolved as it did.
    public let reason: Evaluation.Reason
    /// The variant's index in the flag's outcome table.
    let variantIndex: Int32
    /// The deciding group's index, or -1.
    let group: Int32

    init(variantIndex: Int, reason: Evaluation.Reason, group: Int = -1) {
        self.variantIndex = Int32(truncatingIfNeeded: variantIndex)
        self.reason = reason
        self.group = Int32(truncatingIfNeeded: group)
    }

    /// The index of the rule group that decided, for ``Evaluation/Reason/targetingMatch`` and
    /// ``Evaluation/Reason/split``.
    public var matchedGroup: Int? { group < 0 ? nil : Int(group) }
}
