//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// How a ``HalyardClient`` learns that its environment's flags changed (DESIGN §11).
public enum UpdateMode: Sendable, Equatable {
    /// Server-sent events from `GET /v1/environments/{env}/stream`, reconnecting with backoff and polling while the
    /// stream is down. The default.
    case stream
    /// Refresh calls that Halyard sends to the application, handed to ``HalyardClient/handleRefreshCall(_:)``.
    case webhook
    /// A conditional fetch every `interval`.
    case poll(interval: Duration)
}

/// What a ``HalyardClient`` talks to and how; read once when the client is made.
///
/// ```swift
/// let configuration = HalyardClientConfiguration(
///     baseURL: "https://halyard.internal:8080",
///     environment: "production",
///     readToken: "read-token",
///     cacheFile: "/var/cache/shop/flags.json"
/// )
/// ```
public struct HalyardClientConfiguration: Sendable {
    /// Halyard's base URL, e.g. `http://127.0.0.1:8080`; a trailing slash is ignored.
    public var baseURL: String
    /// The environment whose flags the client keeps.
    public var environment: String
    /// The bearer token of Halyard's read routes; `nil` when Halyard has no read tokens.
    public var readToken: String?
    /// How the client learns about changes.
    public var updateMode: UpdateMode
    /// The `whsec_…` secrets refresh calls may be signed with; several during a rotation. Required for
    /// ``UpdateMode/webhook``.
    public var webhookSecrets: [String]
    /// Where the last good flag set is kept between runs; `nil` keeps nothing.
    public var cacheFile: String?
    /// How long one flag fetch may take, from connecting to the last byte.
    public var requestTimeout: Duration
    /// How long the event stream may stay silent before it is considered dead; Halyard sends a keep-alive comment
    /// every 15 seconds by default.
    public var streamIdleTimeout: Duration
    /// How often the client polls while the event stream is down.
    public var streamFallbackPollInterval: Duration
    /// The first and the largest ceiling of the wait before reconnecting the event stream; each failure doubles it,
    /// and the wait is a random point between half the ceiling and the ceiling (jitter).
    public var reconnectBackoff: ClosedRange<Duration>
    /// How far a refresh call's `webhook-timestamp` may be from the client's clock, either way.
    public var webhookTolerance: Duration
    /// The largest flag set the client accepts, in bytes.
    public var maximumBodyBytes: Int

    /// Creates a configuration; every parameter after `environment` has a default.
    public init(
        baseURL: String,
        environment: String,
        readToken: String? = nil,
        updateMode: UpdateMode = .stream,
        webhookSecrets: [String] = [],
        cacheFile: String? = nil,
        requestTimeout: Duration = .seconds(10),
        streamIdleTimeout: Duration = .seconds(45),
        streamFallbackPollInterval: Duration = .seconds(5),
        reconnectBackoff: ClosedRange<Duration> = .milliseconds(100) ... .seconds(30),
        webhookTolerance: Duration = .seconds(300),
        maximumBodyBytes: Int = 64 << 20
    ) {
        self.baseURL = baseURL
        self.environment = environment
        self.readToken = readToken
        self.updateMode = updateMode
        self.webhookSecrets = webhookSecrets
        self.cacheFile = cacheFile
        self.requestTimeout = requestTimeout
        self.streamIdleTimeout = streamIdleTimeout
        self.streamFallbackPollInterval = streamFallbackPollInterval
        self.reconnectBackoff = reconnectBackoff
        self.webhookTolerance = webhookTolerance
        self.maximumBodyBytes = maximumBodyBytes
    }

    /// The base URL without trailing slashes.
    var trimmedBaseURL: String {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The environment as one URL path segment.
    var environmentSegment: String {
        environment.addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? environment
    }

    /// `<base>/v1/environments/<env>/flags`.
    var flagsURL: String { "\(trimmedBaseURL)/v1/environments/\(environmentSegment)/flags" }

    /// `<base>/v1/environments/<env>/stream`.
    var streamURL: String { "\(trimmedBaseURL)/v1/environments/\(environmentSegment)/stream" }
}
