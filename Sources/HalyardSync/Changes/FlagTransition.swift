//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// The targeting fingerprints of one flag before and after a change.
///
/// Halyard keeps fingerprints rather than plain "added / removed / changed" labels so that two
/// pending changes can be merged into their exact net effect (see ``EnvironmentChange/coalesce(_:_:)``):
/// a flag changed and then changed back, or added and then removed, cancels out.
/// `nil` means the flag is absent on that side.
public struct FlagTransition: Sendable, Hashable, Codable {
    /// The fingerprint before the change, or `nil` if the flag did not exist.
    public var before: String?
    /// The fingerprint after the change, or `nil` if the flag no longer exists.
    public var after: String?

    /// Creates a transition from one fingerprint to another.
    public init(before: String?, after: String?) {
        self.before = before
        self.after = after
    }

    /// Whether the transition changes anything.
    var isEffective: Bool { self.before != self.after }
}
