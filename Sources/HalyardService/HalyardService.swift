//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardNotify
import HalyardRules
import HalyardServer
import HalyardSync
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A whole `halyard serve`: the flag store, the state database, the watcher, the webhook deliverer and the HTTP API,
/// built from one ``ServiceConfiguration`` and run as one service group.
///
/// The CLI, the server tests and the propagation benchmark all build the service here, so there is one wiring of the
/// data path of DESIGN §9. Process-wide set-up (bootstrapping logging and metrics, the umask, the open-file limit, the
/// data directory's mode) stays with the caller.
///
/// The order at start-up, and why webhooks still name the right port:
/// 1. ``init(configuration:logger:metricsRegistry:webhookClient:onRefreshRequest:)`` opens the database and builds
///    everything; nothing runs yet.
/// 2. ``run(gracefulShutdownSignals:)`` starts the watcher, the deliverer and the HTTP server together. The watcher can
///    apply a commit and write its messages to the outbox before the server has bound its socket; the outbox stores
///    `flagsUrl` as a path only, so nothing there depends on the port.
/// 3. The deliverer sends nothing until the base URL is known: at once when ``ServiceConfiguration/HTTP/publicURL``
///    is set, otherwise when the server reports its bound address (`onServerRunning`), which then wakes it. It also
///    holds back the messages of a commit until the store serves that commit (DESIGN §7).
/// 4. Each message is signed and sent with `flagsUrl` completed from that base URL.
///
/// ```swift
/// let service = try HalyardService(configuration: configuration, logger: logger, metricsRegistry: registry)
/// try await service.run(gracefulShutdownSignals: [.sigterm, .sigint])
/// ```
public final class HalyardService: Service, Sendable {
    /// The configuration the service was built from.
    public let configuration: ServiceConfiguration
    /// The flags served now.
    public let store: FlagStore
    /// Subscriptions, the outbox, the delivery log and the applied commit: the SQLite ``StateDatabase`` or, with
    /// ``ServiceConfiguration/State/url``, a ``PostgresStateStore``.
    public let stateStore: any StateStore
    /// The SQLite database when the state is SQLite's (the default), for callers that use it directly; `nil` with
    /// PostgreSQL.
    public let database: StateDatabase!
    /// The SSE hub of `/v1/stream`.
    public let events: EventHub
    /// Follows the repository and applies good commits to ``store``.
    public let watcher: FlagWatcher
    /// Sends the outbox's webhooks; `nil` when ``ServiceConfiguration/Notify/delivers`` is off.
    public let deliverer: WebhookDeliverer?
    /// The HTTP API's routes.
    public let api: HTTPAPI

    private let logger: Logger
    private let baseURL: BaseURL
    /// The client the service created for webhooks and shuts down after running; `nil` when the caller gave one.
    private let ownedWebhookClient: HTTPClient?

    /// Builds the service; nothing runs until ``run(gracefulShutdownSignals:)``.
    ///
    /// - Parameters:
    ///   - configuration: What to serve, and how.
    ///   - logger: Where the service logs; its level is set to ``ServiceConfiguration/logLevel``.
    ///   - metricsRegistry: The registry `/metrics` renders; the caller bootstraps `MetricsSystem` with it.
    ///   - webhookClient: The client that sends webhooks, which the caller shuts down; by default the service makes
    ///     one (no redirects, DESIGN §7) and shuts it down when ``run(gracefulShutdownSignals:)`` returns.
    ///   - onRefreshRequest: Called whenever an HTTP route (the git hook, `/v1/refresh`) asks for a refresh, before the
    ///     watcher is asked; tests count the calls with it.
    /// - Throws: ``StartError`` when the database cannot be opened or a static subscription is refused.
    public init(
        configuration: ServiceConfiguration,
        logger: Logger,
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        webhookClient: HTTPClient? = nil,
        onRefreshRequest: (@Sendable () -> Void)? = nil
    ) throws(StartError) {
        var logger = logger
        logger.logLevel = configuration.logLevel
        self.logger = logger
        self.configuration = configuration
        let database: any StateStore
        if let url = configuration.state.url {
            let postgres = try Self.postgresStore(url: url, configuration: configuration, logger: logger)
            database = postgres
            self.database = nil
        } else {
            let databasePath = configuration.dataDirectory + "/halyard.sqlite"
            let sqlite: StateDatabase
            do {
                sqlite = try StateDatabase(path: databasePath)
            } catch {
                throw StartError(kind: .database, path: databasePath, underlying: error)
            }
            do {
                try sqlite.replaceStaticSubscriptions(configuration.notify.staticSubscriptions)
            } catch {
                throw StartError(kind: .staticSubscriptions, path: databasePath, underlying: error)
            }
            database = sqlite
            self.database = sqlite
        }
        self.stateStore = database
        let store = FlagStore()
        self.store = store
        let events = EventHub()
        self.events = events
        let baseURL = BaseURL(configuration.http.publicURL.map(Self.trimmingSlashes))
        self.baseURL = baseURL

        let deliverer: WebhookDeliverer?
        if configuration.notify.delivers {
            let client: HTTPClient
            if let webhookClient {
                client = webhookClient
                self.ownedWebhookClient = nil
            } else {
                client = HTTPClient(
                    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                    configuration: WebhookDeliverer.httpClientConfiguration()
                )
                self.ownedWebhookClient = client
            }
            deliverer = WebhookDeliverer(
                database: database,
                httpClient: client,
                configuration: WebhookDeliverer.Configuration(
                    allowPrivateNetworks: configuration.notify.allowPrivateNetworks,
                    allowedHosts: configuration.notify.allowedHosts,
                    claimLease: configuration.state.claimLease
                ),
                servedCommit: { store.current?.commit },
                flagsBaseURL: { baseURL.value },
                logger: logger
            )
        } else {
            deliverer = nil
            self.ownedWebhookClient = nil
        }
        self.deliverer = deliverer

        var repository = configuration.repository
        repository.dataDirectory = configuration.dataDirectory
        var listeners: [any ChangeListener] = [events]
        if let deliverer {
            // The deliverer holds a commit's messages back until the store serves it; wake it right after the swap.
            listeners.append(DeliveryTrigger(deliverer: deliverer))
        }
        let watcher = FlagWatcher(configuration: repository, store: store, database: database, listeners: listeners, logger: logger)
        self.watcher = watcher

        let http = configuration.http
        var apiConfiguration = HTTPAPIConfiguration(
            host: http.host,
            port: http.port,
            adminToken: http.auth.adminToken,
            readTokens: http.auth.readTokens,
            gitHookSecret: http.auth.gitHookSecret,
            limits: http.limits,
            sseKeepAlive: http.sseKeepAlive,
            subscriptionPolicy: SubscriptionPolicy(allowedHosts: configuration.notify.allowedHosts),
            serverName: http.serverName
        )
        apiConfiguration.console = ConsoleConfiguration(
            enabled: http.uiEnabled,
            secureCookies: http.publicURL?.lowercased().hasPrefix("https://") ?? false
        )
        var api = HTTPAPI(
            configuration: apiConfiguration,
            store: store,
            refresh: {
                onRefreshRequest?()
                // With PostgreSQL every replica fetches (NOTIFY); with SQLite this one only.
                watcher.requestRefreshEverywhere()
            },
            changesSince: { commit, environment in await watcher.changes(since: commit, environment: environment) },
            database: database,
            events: events,
            metricsRegistry: metricsRegistry,
            logger: logger,
            repositoryBrowser: RepositoryBrowser(configuration: repository)
        )
        api.sharedStateHealth = { watcher.sharedStateHealth }
        api.overrides = watcher
        self.api = api
    }

    /// The base URL of `flagsUrl` in webhook bodies: ``ServiceConfiguration/HTTP/publicURL``, or else built from the
    /// host and the bound port once the server is listening; `nil` until then.
    public var publicBaseURL: String? {
        self.baseURL.value
    }

    /// Runs until cancelled or shut down gracefully (by one of `gracefulShutdownSignals`, or by the service group this
    /// service runs in).
    public func run() async throws {
        try await self.run(gracefulShutdownSignals: [])
    }

    /// Runs the watcher, the deliverer and the HTTP server in one service group until one of them fails, the task is
    /// cancelled, or one of `gracefulShutdownSignals` arrives; then closes the SSE streams and the webhook client.
    ///
    /// With PostgreSQL, start-up does not wait for the database (DESIGN §10): the service serves from git at once, and
    /// the schema migration, the static subscriptions and then delivery start once PostgreSQL is reached
    /// (``SharedStatePreparation``). A ``StartError`` is thrown when the server refuses the user or the database.
    public func run(gracefulShutdownSignals: [UnixSignal]) async throws {
        if let postgres = self.stateStore as? PostgresStateStore {
            defer { postgres.close() }
            // One quick try first, so that a replica whose database is up serves the published commit at once, as
            // before; the rest of the tries run next to serving.
            let prepared: Bool
            do {
                prepared = try await postgres.prepareOnce(
                    staticSubscriptions: self.configuration.notify.staticSubscriptions,
                    connectTimeout: .seconds(2)
                )
            } catch {
                self.events.shutdown()
                try? await self.ownedWebhookClient?.shutdown()
                throw StartError(kind: error.isClientError ? .staticSubscriptions : .database, path: postgres.location, underlying: error)
            }
            try await self.runGroup(gracefulShutdownSignals: gracefulShutdownSignals, preparing: postgres, prepared: prepared)
        } else {
            try await self.runGroup(gracefulShutdownSignals: gracefulShutdownSignals, preparing: nil, prepared: true)
        }
    }

    /// The PostgreSQL store of `state.url`; the URL and the static subscriptions are checked here, so a mistake in
    /// either is a start-up error, before anything connects.
    private static func postgresStore(url: String, configuration: ServiceConfiguration, logger: Logger) throws(StartError) -> PostgresStateStore {
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: url)
        } catch {
            throw StartError(kind: .database, path: error.url, underlying: error)
        }
        do {
            _ = try StateDatabase.validateStaticSubscriptions(configuration.notify.staticSubscriptions)
        } catch {
            throw StartError(kind: .staticSubscriptions, path: location.description, underlying: error)
        }
        return PostgresStateStore(location: location, password: configuration.state.password, logger: logger)
    }

    private func runGroup(gracefulShutdownSignals: [UnixSignal], preparing postgres: PostgresStateStore?, prepared: Bool) async throws {
        let app = self.api.makeApplication { [self] channel in self.serverRunning(on: channel) }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: self.watcher)]
        // `halyard_flags_stale` again when a flag's `metadata.expires` passes with no commit.
        services.append(.init(service: StaleGauge(store: self.store)))
        if let postgres {
            // The deliverer starts once PostgreSQL is reached and migrated.
            let preparation = SharedStatePreparation(
                store: postgres,
                staticSubscriptions: self.configuration.notify.staticSubscriptions,
                deliverer: self.deliverer,
                backoff: Backoff(initial: .milliseconds(200), maximum: .seconds(5), jitter: .equal),
                prepared: prepared
            )
            services.append(.init(service: preparation))
        } else if let deliverer {
            services.append(.init(service: deliverer))
        }
        services.append(.init(service: app))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: self.logger
            )
        )
        do {
            try await group.run()
        } catch {
            self.events.shutdown()
            try? await self.ownedWebhookClient?.shutdown()
            throw error
        }
        self.events.shutdown()
        try await self.ownedWebhookClient?.shutdown()
    }

    /// The server has bound its socket: the base URL can name the real port, and messages held for it may go.
    private func serverRunning(on channel: any Channel) {
        let http = self.configuration.http
        let port = channel.localAddress?.port ?? http.port
        let shownHost = http.host == "0.0.0.0" || http.host == "::" ? "127.0.0.1" : http.host
        self.baseURL.setIfUnknown("http://\(shownHost):\(port)")
        self.deliverer?.wake()
        let mode: String
        switch self.configuration.repository.source {
        case .local(let path): mode = "local mode, \(path)"
        case .remote(let url): mode = url
        }
        self.logger.notice("halyard is serving", metadata: ["url": "http://\(http.host):\(port)", "repository": "\(mode)"])
    }

    private static func trimmingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") {
            url.removeLast()
        }
        return url
    }
}

extension HalyardService {
    /// Why a service could not be built; it names the database file it concerns.
    public struct StartError: Error, CustomStringConvertible {
        /// What failed.
        public enum Kind: Sendable, Equatable {
            /// The state database cannot be opened or migrated, or `state.url` is not a usable URL.
            case database
            /// A static subscription has a bad URL or secret, or cannot be stored.
            case staticSubscriptions
        }

        /// What failed.
        public let kind: Kind
        /// The state database's path, or the PostgreSQL URL (without password).
        public let path: String
        /// The error of the database.
        public let underlying: any Error

        /// The database's own message, which already names what is wrong.
        public var description: String { "\(self.underlying)" }
    }
}

/// The base URL of `flagsUrl`, shared by the service (which learns it when the server is bound) and the deliverer.
private final class BaseURL: Sendable {
    private let state: Mutex<String?>

    init(_ value: String?) {
        self.state = Mutex(value)
    }

    var value: String? { self.state.withLock { $0 } }

    /// Sets the URL unless one is known already (`http.publicURL` wins over the bound address).
    func setIfUnknown(_ url: String) {
        self.state.withLock { current in
            if current == nil { current = url }
        }
    }
}

/// Wakes the webhook deliverer as soon as the watcher serves a commit whose messages it wrote to the outbox (the
/// deliverer holds them back until then).
struct DeliveryTrigger: ChangeListener {
    let deliverer: WebhookDeliverer

    func flagsApplied(_ change: AppliedChange) {
        self.deliverer.wake()
    }
}
