//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// A break-glass override of one flag in one environment (DESIGN §14): served at once, published like a change, and
/// ended when it expires, when a commit changes the flag, or when someone deletes it.
///
/// An override sits on top of the committed flag: the served flag is the committed one with ``Setting`` applied (see
/// ``OverrideOverlay``). Ended overrides are kept, with ``endedAt`` and ``endReason``, for the audit list.
///
/// ```swift
/// let override = FlagOverride(
///     environment: "production", flag: "new-checkout", setting: .active(false), reason: "checkout is failing",
///     createdAt: now, expiresAt: now + 3_600, baseCommit: served.commit, baseFingerprint: loaded.targetingFingerprint)
/// ```
public struct FlagOverride: Sendable, Hashable {
    /// What the override serves.
    public enum Setting: Sendable, Hashable {
        /// The committed flag with `active` set to this value.
        case active(Bool)
        /// A typed flag serving this variant to everybody: `active = true`, `defaultVariant`, `rules = []`.
        case variant(String)
    }

    /// A random, URL-safe id: `ovr_` and 16 hex digits.
    public var id: String
    /// The environment (the directory under the flags directory).
    public var environment: String
    /// The flag id.
    public var flag: String
    /// What is served instead of the committed flag.
    public var setting: Setting
    /// Why, as given by whoever created it (1…500 characters).
    public var reason: String
    /// When it was created.
    public var createdAt: Date
    /// When it ends on its own.
    public var expiresAt: Date
    /// The commit served when it was created.
    public var baseCommit: String
    /// The flag's committed targeting fingerprint when it was created: a commit that changes it ends the override.
    public var baseFingerprint: String
    /// When it ended; `nil` while it is in effect (or until its expiry is noticed).
    public var endedAt: Date?
    /// Why it ended: `expired`, `commit <sha>` or `deleted`.
    public var endReason: String?

    /// Creates an override; `id` defaults to a new random one.
    public init(
        id: String = FlagOverride.newID(),
        environment: String,
        flag: String,
        setting: Setting,
        reason: String,
        createdAt: Date,
        expiresAt: Date,
        baseCommit: String,
        baseFingerprint: String,
        endedAt: Date? = nil,
        endReason: String? = nil
    ) {
        self.id = id
        self.environment = environment
        self.flag = flag
        self.setting = setting
        self.reason = reason
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.baseCommit = baseCommit
        self.baseFingerprint = baseFingerprint
        self.endedAt = endedAt
        self.endReason = endReason
    }

    /// A new random id: `ovr_` and 16 lower-case hex digits.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return "ovr_" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Whether it has not ended (it may still be past its expiry until the watcher notices).
    public var isOpen: Bool { endedAt == nil }

    /// Whether it is in effect at `date`: not ended and not expired.
    public func isInEffect(at date: Date) -> Bool { endedAt == nil && expiresAt > date }

    /// The key of its flag, `environment/flag`.
    public var flagKey: String { environment + "/" + flag }
}

extension FlagOverride.Setting {
    /// `active` or `variant`, as stored.
    public var kind: String {
        switch self {
        case .active: "active"
        case .variant: "variant"
        }
    }

    /// The value as stored: `true`, `false` or the variant name.
    public var storedValue: String {
        switch self {
        case .active(let value): value ? "true" : "false"
        case .variant(let name): name
        }
    }

    /// Rebuilds a setting from its stored kind and value; nil when they are not one.
    public init?(kind: String, storedValue: String) {
        switch (kind, storedValue) {
        case ("active", "true"): self = .active(true)
        case ("active", "false"): self = .active(false)
        case ("variant", let name): self = .variant(name)
        default: return nil
        }
    }
}

/// Why an override ended, as its `endReason` says.
public enum OverrideEnd {
    /// It reached its `expiresAt`.
    public static let expired = "expired"
    /// Someone ended it early (`DELETE /v1/overrides/{id}`).
    public static let deleted = "deleted"

    /// A commit changed (or removed) the flag.
    public static func commit(_ sha: String) -> String { "commit " + sha }
}
