//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify

/// How `halyard serve` exposes its HTTP API: where it listens, who may call what, and a few limits.
///
/// It mirrors the `http.*` and `auth.*` keys of DESIGN §8 and is read once at start-up by the `serve` command.
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
    /// The largest request body accepted; larger ones get 413.
    public var maxBodySize: Int
    /// How often an SSE stream sends a keep-alive comment.
    public var sseKeepAlive: Duration
    /// Which webhook targets `POST /v1/subscriptions` accepts.
    public var subscriptionPolicy: SubscriptionPolicy
    /// The `Server` response header, if any.
    public var serverName: String?

    /// Creates a configuration; every parameter has the default of DESIGN §8.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        adminToken: String? = nil,
        readTokens: [String] = [],
        gitHookSecret: String? = nil,
        maxBodySize: Int = 1 << 20,
        sseKeepAlive: Duration = .seconds(15),
        subscriptionPolicy: SubscriptionPolicy = .any,
        serverName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.adminToken = adminToken
        self.readTokens = readTokens
        self.gitHookSecret = gitHookSecret
        self.maxBodySize = maxBodySize
        self.sseKeepAlive = sseKeepAlive
        self.subscriptionPolicy = subscriptionPolicy
        self.serverName = serverName
    }
}
