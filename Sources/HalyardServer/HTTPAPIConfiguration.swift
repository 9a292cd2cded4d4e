//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify

/// How `halyard serve` exposes its HTTP API: where it listens, who may call what, and its limits.
///
/// It mirrors the `http.*`, `auth.*` and `limits.*` keys of DESIGN §8 and is read once at start-up by the `serve`
/// command.
public struct HTTPAPIConfiguration: Sendable {
    /// The address to listen on (`http.host`).
    public var host: String
    /// The port to listen on (`http.port`); 0 picks a free one.
    public var port: Int
    /// The bearer token of the admin routes (`auth.adminToken`); `nil` switches them off (403).
    public var adminToken: String?
    /// The tokens accepted on read routes (`auth.readTokens`), as `Authorization: Bearer` or `X-API-Key`; empty leaves
    /// read routes open. The admin token is accepted there too.
    public var readTokens: [String]
    /// The secret of git-host push webhooks (`auth.gitHookSecret`); `nil` switches `/v1/hooks/git` off (403).
    public var gitHookSecret: String?
    /// What one client may ask of the server (DESIGN §13).
    public var limits: HTTPLimits
    /// How often an SSE stream sends a keep-alive comment.
    public var sseKeepAlive: Duration
    /// Which webhook targets `POST /v1/subscriptions` accepts.
    public var subscriptionPolicy: SubscriptionPolicy
    /// The `Server` response header, if any.
    public var serverName: String?
    /// The web console under `/ui` (`ui.enabled`).
    public var console = ConsoleConfiguration()

    /// Creates a configuration; every parameter has the default of DESIGN §8.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        adminToken: String? = nil,
        readTokens: [String] = [],
        gitHookSecret: String? = nil,
        limits: HTTPLimits = HTTPLimits(),
        sseKeepAlive: Duration = .seconds(15),
        subscriptionPolicy: SubscriptionPolicy = .any,
        serverName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.adminToken = adminToken
        self.readTokens = readTokens
        self.gitHookSecret = gitHookSecret
        self.limits = limits
        self.sseKeepAlive = sseKeepAlive
        self.subscriptionPolicy = subscriptionPolicy
        self.serverName = serverName
    }
}

/// The request and connection limits of DESIGN §13, each the `limits.*` key of the same name.
///
/// They keep one client, or many, from taking the memory, CPU or sockets that everybody else needs: a body over its
/// limit gets 413, a context with too many attributes or too deep JSON gets 400, and a server at its connection or
/// stream cap answers 503 with `Retry-After` rather than letting new clients hang.
public struct HTTPLimits: Sendable, Equatable {
    /// The largest body of routes other than evaluation, in bytes (`limits.requestBody`, 1 MiB).
    public var requestBody: Int
    /// The largest body of `POST …/evaluate` and the OFREP evaluation routes, in bytes (`limits.contextBody`, 64 KiB).
    public var contextBody: Int
    /// The most attributes an evaluation context may have (`limits.contextAttributes`, 1,024).
    public var contextAttributes: Int
    /// The deepest nesting of arrays and objects in a request body (64).
    public var jsonNesting: Int
    /// How long a connection may sit without a request before it is closed (`limits.idleTimeout`, 60 s).
    public var idleTimeout: Duration
    /// The most open connections (`limits.maxConnections`, 10,000); a connection beyond gets 503 and is closed.
    public var maxConnections: Int
    /// The most open SSE streams (`limits.maxStreams`, 5,000); a stream request beyond gets 503.
    public var maxStreams: Int
    /// What `Retry-After` says on a 503 at a cap, in seconds.
    public var retryAfterSeconds: Int

    /// Creates limits; every parameter has the default of DESIGN §13.
    public init(
        requestBody: Int = 1 << 20,
        contextBody: Int = 64 << 10,
        contextAttributes: Int = 1_024,
        jsonNesting: Int = 64,
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 10_000,
        maxStreams: Int = 5_000,
        retryAfterSeconds: Int = 5
    ) {
        self.requestBody = requestBody
        self.contextBody = contextBody
        self.contextAttributes = contextAttributes
        self.jsonNesting = jsonNesting
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxStreams = maxStreams
        self.retryAfterSeconds = retryAfterSeconds
    }
}
