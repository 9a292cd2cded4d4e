import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A commit that failed validation, kept visible until a newer commit applies.
///
/// It keeps at most the first ``maximumErrors`` diagnostics and the count of all: a commit with a hundred thousand bad
/// files must not make `/v1/status` (or the memory behind it) that large.
public struct Rejection: Sendable, Equatable {
    /// How many diagnostics a rejection keeps.
    public static let maximumErrors = 100

    /// The rejected commit.
    public let commit: String
    /// When it was rejected.
    public let at: Date
    /// The first ``maximumErrors`` diagnostics, in the validator's order.
    public let errors: [Diagnostic]
    /// How many diagnostics the commit had in all.
    public let errorCount: Int

    /// Creates a rejection from all of the commit's diagnostics; it keeps the first ``maximumErrors``.
    public init(commit: String, at: Date, errors: [Diagnostic]) {
        self.commit = commit
        self.at = at
        self.errors = Array(errors.prefix(Self.maximumErrors))
        self.errorCount = errors.count
    }
}
