//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify
import HalyardServer
import HalyardSync
import Logging

/// Everything a running `halyard serve` is built from, as one typed value.
///
/// It exists so that `serve` is assembled in one place (``HalyardService``): the CLI loads its configuration file,
/// environment and flags into one of these, the tests and the benchmarks write one directly. Each nested value holds the
/// settings of one concern, with the defaults of DESIGN §8.
public struct ServiceConfiguration: Sendable {
    /// The flag repository, how the watcher follows it, and which keys must sign the commits it applies
    /// (`repo.verify.*`: ``WatcherConfiguration/signatures``). Its `dataDirectory` is replaced by
    /// ``ServiceConfiguration/dataDirectory``, so the mirror and the database always live side by side.
    public var repository: WatcherConfiguration
    /// The HTTP API: where it listens, the address others reach it at, its tokens and its limits.
    public var http: HTTP
    /// Webhooks: where they may go, and the subscriptions declared in configuration.
    public var notify: Notify
    /// Where the shared state lives: SQLite in ``dataDirectory`` (the default), or PostgreSQL (`state.url`).
    public var state: State = State()
    /// Where the mirror of the repository and the state database (`halyard.sqlite`) live. The caller makes it exist
    /// (and private: DESIGN §13) before building the service.
    public var dataDirectory: String
    /// The least severe level the service logs at; applied to the logger the service is given, so a caller that
    /// bootstraps logging once per process still gets the level of this configuration.
    public var logLevel: Logger.Level

    /// Creates a configuration; every parameter has the default of DESIGN §8.
    public init(
        repository: WatcherConfiguration = WatcherConfiguration(),
        http: HTTP = HTTP(),
        notify: Notify = Notify(),
        dataDirectory: String = ".halyard",
        logLevel: Logger.Level = .info
    ) {
        self.repository = repository
        self.http = http
        self.notify = notify
        self.dataDirectory = dataDirectory
        self.logLevel = logLevel
    }

    /// The HTTP side of the service (`http.*`, `auth.*`, `limits.*`).
    public struct HTTP: Sendable {
        /// The address the server binds.
        public var host: String
        /// The port the server binds; 0 lets the system choose one, which ``HalyardService/publicBaseURL`` then names.
        public var port: Int
        /// The base URL other servers reach this one at (`http.publicURL`), for `flagsUrl` in webhook bodies. It is
        /// needed behind a proxy or a load balancer; without it the URL is built from ``host`` and the bound port.
        public var publicURL: String?
        /// Who may call which route.
        public var auth: Auth
        /// Request, connection and stream limits (DESIGN §13).
        public var limits: HTTPLimits
        /// How often an idle SSE stream gets a comment, so proxies keep it open.
        public var sseKeepAlive: Duration
        /// The `Server` response header, if any.
        public var serverName: String?
        /// Whether the web console is served under `/ui` (`ui.enabled`, DESIGN §12); on by default.
        public var uiEnabled = true

        /// Creates the HTTP settings; every parameter has the default of DESIGN §8.
        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            publicURL: String? = nil,
            auth: Auth = Auth(),
            limits: HTTPLimits = HTTPLimits(),
            sseKeepAlive: Duration = .seconds(15),
            serverName: String? = nil
        ) {
            self.host = host
            self.port = port
            self.publicURL = publicURL
            self.auth = auth
            self.limits = limits
            self.sseKeepAlive = sseKeepAlive
            self.serverName = serverName
        }
    }

    /// The tokens of the HTTP API (`auth.*`); with none set, every route is open (DESIGN §8).
    public struct Auth: Sendable {
        /// The bearer token of the admin routes (subscriptions, the console's admin pages).
        public var adminToken: String?
        /// The bearer tokens that may read flags; empty means reads are open.
        public var readTokens: [String]
        /// The secret a git host signs its push hooks with.
        public var gitHookSecret: String?

        /// Creates the auth settings.
        public init(adminToken: String? = nil, readTokens: [String] = [], gitHookSecret: String? = nil) {
            self.adminToken = adminToken
            self.readTokens = readTokens
            self.gitHookSecret = gitHookSecret
        }
    }

    /// Webhooks (`notify.*`, `subscriptions`).
    public struct Notify: Sendable {
        /// Whether this service sends webhooks at all. Off only for a process that must not reach subscribers, such
        /// as a test of the HTTP API alone; messages then stay in the outbox.
        public var delivers: Bool
        /// Whether subscriber URLs may resolve to loopback, private and link-local addresses
        /// (`notify.allowPrivateNetworks`); off by default so the service cannot be pointed at internal systems.
        public var allowPrivateNetworks: Bool
        /// The hosts a subscription URL may name (`notify.allowedHosts`), checked when one is created and again when
        /// a webhook is sent; `nil` allows any host.
        public var allowedHosts: [String]?
        /// The subscriptions declared in the config file; they replace the previous static ones at every start.
        public var staticSubscriptions: [StaticSubscription]

        /// Creates the webhook settings.
        public init(
            delivers: Bool = true,
            allowPrivateNetworks: Bool = false,
            allowedHosts: [String]? = nil,
            staticSubscriptions: [StaticSubscription] = []
        ) {
            self.delivers = delivers
            self.allowPrivateNetworks = allowPrivateNetworks
            self.allowedHosts = allowedHosts
            self.staticSubscriptions = staticSubscriptions
        }
    }
}

extension ServiceConfiguration {
    /// Where subscriptions, the outbox, the delivery log and the applied commit live (`state.*`, DESIGN §10).
    public struct State: Sendable {
        /// `postgres://user@host:port/database` (`state.url`) to share the state between replicas in PostgreSQL;
        /// `nil` keeps it in SQLite (`halyard.sqlite` in the data directory). The URL never holds the password.
        public var url: String?
        /// The PostgreSQL user's password (`state.passwordFile`, `HALYARD_STATE_PASSWORD`), if it needs one.
        public var password: String?
        /// How long a replica's claim on a message it is sending lasts (`state.claimLease`, 5 s to 1 h): a replica
        /// that dies mid-delivery holds the message that long before another sends it again (DESIGN §10).
        public var claimLease: Duration

        /// Creates the state settings; by default the state is SQLite's.
        public init(url: String? = nil, password: String? = nil, claimLease: Duration = Self.defaultClaimLease) {
            self.url = url
            self.password = password
            self.claimLease = claimLease
        }

        /// The default of `state.claimLease`: 40 s, more than a 10 s attempt and its recording take.
        public static let defaultClaimLease: Duration = .seconds(40)
        /// The shortest and the longest `state.claimLease`.
        public static let claimLeaseRange: ClosedRange<Duration> = .seconds(5) ... .seconds(3600)
    }
}
