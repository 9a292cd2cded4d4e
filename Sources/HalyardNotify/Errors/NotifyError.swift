//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// An error from subscriptions, the outbox or webhook signing.
///
/// Like Hummingbird's and service-lifecycle's errors it is a struct over a private set of kinds, so kinds can be added
/// without breaking callers. Every error names what it concerns (a URL, a subscription id, a database path). The HTTP
/// layer maps ``isNotFound`` to 404 and other ``isClientError`` errors to 400 (or 409 for
/// ``Code/staticSubscriptionIsReadOnly``).
public struct NotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of a ``NotifyError``, for callers that need to tell them apart.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String, Sendable {
            case invalidURL
            case hostNotAllowed
            case invalidEnvironments
            case subscriptionNotFound
            case staticSubscriptionIsReadOnly
            case invalidSecret
            case database
            case unavailable
        }

        private let kind: Kind

        private init(_ kind: Kind) { self.kind = kind }

        /// A subscription URL is malformed or uses a scheme other than http/https.
        public static var invalidURL: Code { Code(.invalidURL) }
        /// A subscription URL points to a host the policy does not allow.
        public static var hostNotAllowed: Code { Code(.hostNotAllowed) }
        /// A subscription's environment list is empty or holds an invalid name.
        public static var invalidEnvironments: Code { Code(.invalidEnvironments) }
        /// No subscription has the given id.
        public static var subscriptionNotFound: Code { Code(.subscriptionNotFound) }
        /// A subscription from the config file cannot be changed through the API.
        public static var staticSubscriptionIsReadOnly: Code { Code(.staticSubscriptionIsReadOnly) }
        /// A signing secret is not `whsec_` followed by base64.
        public static var invalidSecret: Code { Code(.invalidSecret) }
        /// The SQLite state database failed.
        public static var database: Code { Code(.database) }
        /// The shared state store (PostgreSQL) has not been reached since start-up; the HTTP layer answers 503.
        public static var unavailable: Code { Code(.unavailable) }

        /// The name of the kind.
        public var description: String { self.kind.rawValue }
    }

    /// The kind of error.
    public let code: Code
    /// What the error concerns: a URL, a subscription id, environment names or a database path.
    public let subject: String
    /// A human-readable explanation.
    public let message: String

    private init(code: Code, subject: String, message: String) {
        self.code = code
        self.subject = subject
        self.message = message
    }

    /// A subscription URL is malformed or not http/https.
    ///
    /// The URL appears without its query string and user info (``SubscriberURL/redacted(_:)``).
    public static func invalidURL(_ url: String, reason: String) -> NotifyError {
        let url = SubscriberURL.redacted(url)
        return NotifyError(code: .invalidURL, subject: url, message: "invalid webhook URL \"\(url)\": \(reason)")
    }

    /// A subscription URL's host is not in ``SubscriptionPolicy/allowedHosts``.
    public static func hostNotAllowed(_ url: String) -> NotifyError {
        let url = SubscriberURL.redacted(url)
        return NotifyError(code: .hostNotAllowed, subject: url, message: "webhook URL \"\(url)\": host is not in the allowed hosts")
    }

    /// A subscription's environments are empty or hold an invalid name.
    public static func invalidEnvironments(_ environments: [String], reason: String) -> NotifyError {
        NotifyError(
            code: .invalidEnvironments,
            subject: environments.joined(separator: ","),
            message: "invalid environments \(environments): \(reason)"
        )
    }

    /// No subscription has this id.
    public static func subscriptionNotFound(_ id: String) -> NotifyError {
        NotifyError(code: .subscriptionNotFound, subject: id, message: "subscription \"\(id)\" not found")
    }

    /// The subscription comes from the config file and cannot be changed through the API.
    public static func staticSubscriptionIsReadOnly(_ id: String) -> NotifyError {
        NotifyError(
            code: .staticSubscriptionIsReadOnly,
            subject: id,
            message: "subscription \"\(id)\" comes from the config file and cannot be changed through the API"
        )
    }

    /// A signing secret is malformed. The secret itself is never included.
    public static func invalidSecret(_ concerning: String, reason: String) -> NotifyError {
        NotifyError(code: .invalidSecret, subject: concerning, message: "invalid webhook secret for \(concerning): \(reason)")
    }

    /// The SQLite state database at `path` failed.
    public static func database(_ path: String, _ underlying: String) -> NotifyError {
        NotifyError(code: .database, subject: path, message: "state database \(path): \(underlying)")
    }

    /// The shared state store at `location` has not been reached since start-up, for `reason`.
    public static func unavailable(_ location: String, _ reason: String) -> NotifyError {
        NotifyError(code: .unavailable, subject: location, message: "state database \(location) is unavailable: \(reason)")
    }

    /// The explanation without the leading "state database <subject>: " of a ``Code/database`` error.
    var reason: String {
        let prefix = "state database \(self.subject): "
        return self.message.hasPrefix(prefix) ? String(self.message.dropFirst(prefix.count)) : self.message
    }

    /// Whether the error means the requested thing does not exist (HTTP 404).
    public var isNotFound: Bool { self.code == .subscriptionNotFound }

    /// Whether the error is the caller's fault (an HTTP 4xx) rather than the server's.
    public var isClientError: Bool { self.code != .database && self.code != .unavailable }

    /// The same as ``message``.
    public var description: String { self.message }
}
