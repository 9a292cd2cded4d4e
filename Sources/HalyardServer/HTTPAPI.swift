//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify
import HalyardSync
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus

/// The HTTP API of `halyard serve` (DESIGN §6): flags, evaluation, SSE, status, refresh triggers and subscriptions,
/// and the web console under `/ui` (DESIGN §12).
///
/// It reads what the watcher produced (the ``FlagStore``) and asks for more through two closures, `refresh` and
/// `changesSince`, rather than holding the ``FlagWatcher`` itself: the `serve` command passes the watcher's methods,
/// and tests can pass anything. Build the router with ``makeRouter()``, or a ready `Service` with
/// ``makeApplication(onServerRunning:)`` and run it in the same `ServiceGroup` as the watcher and the deliverer.
///
/// ```swift
/// let registry = PrometheusCollectorRegistry()
/// MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
/// let store = FlagStore()
/// let hub = EventHub()
/// let database = try StateDatabase(path: dataDir + "/state.sqlite")
/// let watcher = FlagWatcher(configuration: watch, store: store, database: database, listeners: [hub, deliverer],
///                           logger: logger)
/// let api = HTTPAPI(configuration: http, store: store, watcher: watcher, database: database, events: hub,
///                   metricsRegistry: registry, logger: logger)
/// let group = ServiceGroup(services: [watcher, deliverer, api.makeApplication()], gracefulShutdownSignals: [.sigterm, .sigint],
///                          logger: logger)
/// try await group.run()
/// ```
public struct HTTPAPI: Sendable {
    /// Asks the watcher for an immediate fetch.
    public typealias Refresh = @Sendable () -> Void
    /// The change of one environment from a commit to what is served now; `nil` when the commit is unknown.
    public typealias ChangesSince = @Sendable (_ commit: String, _ environment: String) async -> EnvironmentChangeSet?

    let configuration: HTTPAPIConfiguration
    let store: FlagStore
    let refresh: Refresh
    let changesSince: ChangesSince
    let database: any SubscriptionStore
    let events: EventHub
    let metricsRegistry: PrometheusCollectorRegistry
    let logger: Logger
    /// The encoded `GET …/flags` body of each environment.
    let flagsBodies = EnvironmentCache<ByteBuffer>()
    /// The pre-encoded bulk answers of each environment (`/evaluate` of every flag, OFREP bulk).
    let encodedEnvironments = EnvironmentCache<EncodedEnvironment>()
    let hookDeliveries = RecentHookDeliveries()
    let requestCounters: RequestCounters
    let sseClients: Prometheus.Gauge
    /// The open connections, capped at `limits.maxConnections`.
    let connections: AdmissionCounter
    /// The open SSE streams, capped at `limits.maxStreams`.
    let streams: AdmissionCounter
    /// Read tokens with empty entries dropped.
    let readTokens: [String]
    /// The admin token, `nil` when unset or empty.
    let adminToken: String?
    /// The git hook secret, `nil` when unset or empty.
    let gitHookSecret: String?
    /// What the console reads from git (commits, history, diffs); `nil` leaves those parts of its pages out.
    let repositoryBrowser: RepositoryBrowser?
    /// The console's logged-in sessions, signed with a key derived from the tokens.
    let consoleSessions: ConsoleSessions
    /// The health of a state store shared by several replicas (`state` in `/v1/status`); `nil` (no `state` object) with
    /// SQLite.
    public var sharedStateHealth: (@Sendable () -> SharedStateHealth?)?
    /// The watcher whose break-glass overrides `/v1/overrides` manages and `/v1/status` shows (DESIGN §14); `nil`
    /// leaves the override routes answering 404.
    public var overrides: FlagWatcher?

    /// Creates the API over closures for the watcher's two entry points.
    ///
    /// - Parameters:
    ///   - configuration: Listening address, tokens and limits.
    ///   - store: The served flags and the watcher status.
    ///   - refresh: Called by `POST /v1/refresh` and `POST /v1/hooks/git`; must return at once.
    ///   - changesSince: Answers SSE catch-up requests (`Last-Event-ID`), usually ``FlagWatcher/changes(since:environment:)``.
    ///   - database: Subscriptions and their delivery logs.
    ///   - events: The hub that the watcher publishes to; SSE clients subscribe there.
    ///   - metricsRegistry: The registry that `/metrics` shows and that the HTTP metrics are created in.
    ///   - logger: For unexpected errors only; requests are not logged.
    ///   - repositoryBrowser: What the console reads from git; without it the console shows no history or diffs.
    public init(
        configuration: HTTPAPIConfiguration,
        store: FlagStore,
        refresh: @escaping Refresh,
        changesSince: @escaping ChangesSince,
        database: any SubscriptionStore,
        events: EventHub,
        metricsRegistry: PrometheusCollectorRegistry,
        logger: Logger,
        repositoryBrowser: RepositoryBrowser? = nil
    ) {
        self.configuration = configuration
        self.repositoryBrowser = repositoryBrowser
        self.store = store
        self.refresh = refresh
        self.changesSince = changesSince
        self.database = database
        self.events = events
        self.metricsRegistry = metricsRegistry
        self.logger = logger
        self.requestCounters = RequestCounters(registry: metricsRegistry)
        self.sseClients = metricsRegistry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "halyard_sse", unitName: "clients", helpText: "Connected SSE clients.")
        )
        self.connections = AdmissionCounter(capacity: configuration.limits.maxConnections)
        self.streams = AdmissionCounter(capacity: configuration.limits.maxStreams)
        self.readTokens = configuration.readTokens.filter { !$0.isEmpty }
        self.adminToken = configuration.adminToken.flatMap { $0.isEmpty ? nil : $0 }
        self.gitHookSecret = configuration.gitHookSecret.flatMap { $0.isEmpty ? nil : $0 }
        self.consoleSessions = ConsoleSessions(readTokens: readTokens, adminToken: adminToken)
    }

    /// Creates the API over a running ``FlagWatcher``; pass a ``RepositoryBrowser`` over the same repository for the
    /// console's history and diffs.
    public init(
        configuration: HTTPAPIConfiguration,
        store: FlagStore,
        watcher: FlagWatcher,
        database: any SubscriptionStore,
        events: EventHub,
        metricsRegistry: PrometheusCollectorRegistry,
        logger: Logger,
        repositoryBrowser: RepositoryBrowser? = nil
    ) {
        self.init(
            configuration: configuration,
            store: store,
            refresh: { watcher.requestRefresh() },
            changesSince: { commit, environment in await watcher.changes(since: commit, environment: environment) },
            database: database,
            events: events,
            metricsRegistry: metricsRegistry,
            logger: logger,
            repositoryBrowser: repositoryBrowser
        )
    }

    /// Builds the router with every route of DESIGN §6, the error and metrics middleware, and 405 answers.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(counters: requestCounters))
        router.add(middleware: ErrorMiddleware(logger: logger))
        var routes = RouteTable(router: router)
        addHealthRoutes(to: &routes)
        addFlagRoutes(to: &routes)
        addStreamRoutes(to: &routes)
        addTriggerRoutes(to: &routes)
        addSubscriptionRoutes(to: &routes)
        addOverrideRoutes(to: &routes)
        addOFREPRoutes(to: &routes)
        addOpenAPIRoutes(to: &routes)
        if configuration.console.enabled { addConsoleRoutes(to: &routes) }
        routes.finish()
        return router
    }

    /// The HTTP/1.1 server with the connection limits of DESIGN §13 (the idle timeout and the connection cap) and the
    /// ``FastPathHandler`` for the hot read routes.
    ///
    /// Pass it as `server:` when building an `Application` over ``makeRouter()`` by hand (tests do);
    /// ``makeApplication(onServerRunning:)`` uses it.
    public func makeServer() -> HTTPServerBuilder {
        let limits = configuration.limits
        let connections = self.connections
        let api = self
        return HTTPServerBuilder { responder in
            HalyardHTTP1Channel(
                responder: responder,
                idleTimeout: limits.idleTimeout,
                connectionHandlers: { [ConnectionLimitHandler(counter: connections, retryAfterSeconds: limits.retryAfterSeconds)] },
                requestHandlers: { [FastPathHandler(api: api)] }
            )
        }
    }

    /// Builds the HTTP server as a `Service`, listening on the configured host and port.
    ///
    /// - Parameter onServerRunning: Called with the listening channel once the server is up (its `localAddress` tells
    ///   the port when the configured port is 0).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            router: makeRouter(),
            server: makeServer(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: configuration.serverName
            ),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
