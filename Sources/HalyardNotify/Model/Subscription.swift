//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// An application server that wants a webhook when some environments change.
///
/// Subscriptions come from two places (DESIGN §7): the config file (``isStatic``, read-only through the API, replaced
/// at start-up by ``StateDatabase/replaceStaticSubscriptions(_:)``) and the admin API (dynamic, persisted, created with
/// ``StateDatabase/createSubscription(url:environments:policy:)``).
public struct Subscription: Sendable, Equatable, Codable {
    /// A stable identifier: `sub_…` for dynamic subscriptions, `static_…` for those of the config file.
    public var id: String
    /// The URL that receives `POST` requests.
    public var url: String
    /// The environments whose effective changes are sent.
    public var environments: [String]
    /// The `whsec_…` signing secret.
    public var secret: String
    /// When the subscription was created.
    public var createdAt: Date
    /// Whether deliveries stopped because the receiver answered `410 Gone`.
    public var disabled: Bool
    /// Whether the subscription comes from the config file.
    public var isStatic: Bool

    /// Creates a subscription value.
    public init(
        id: String,
        url: String,
        environments: [String],
        secret: String,
        createdAt: Date,
        disabled: Bool = false,
        isStatic: Bool = false
    ) {
        self.id = id
        self.url = url
        self.environments = environments
        self.secret = secret
        self.createdAt = createdAt
        self.disabled = disabled
        self.isStatic = isStatic
    }
}

/// A subscription declared in the config file (`subscriptions: [{url, environments, secret}]`).
///
/// The config file is the source of truth for these, so they are given to
/// ``StateDatabase/replaceStaticSubscriptions(_:)`` at every start-up rather than created through the API.
public struct StaticSubscription: Sendable, Equatable {
    /// The URL that receives `POST` requests.
    public var url: String
    /// The environments whose effective changes are sent.
    public var environments: [String]
    /// The `whsec_…` signing secret chosen by the operator.
    public var secret: String

    /// Creates a static subscription.
    public init(url: String, environments: [String], secret: String) {
        self.url = url
        self.environments = environments
        self.secret = secret
    }
}

/// The rules a new subscription must follow.
///
/// The HTTP layer builds one from the configuration, so an operator can restrict webhook targets (for example to
/// internal hosts) and keep the service from being used to reach arbitrary addresses.
public struct SubscriptionPolicy: Sendable {
    /// The hosts a subscription URL may point to, compared case-insensitively; an entry `*.example.com` allows every
    /// subdomain of `example.com`. `nil` allows any host.
    public var allowedHosts: [String]?

    /// Creates a policy.
    public init(allowedHosts: [String]? = nil) {
        self.allowedHosts = allowedHosts
    }

    /// Allows any host.
    public static var any: SubscriptionPolicy { SubscriptionPolicy(allowedHosts: nil) }
}
