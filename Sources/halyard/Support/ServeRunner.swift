import ArgumentParser
import AsyncHTTPClient
import Foundation
import HalyardGit
import HalyardNotify
import HalyardServer
import HalyardSync
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Wires the watcher, the webhook deliverer and the HTTP API into one `ServiceGroup` and runs it until SIGTERM/SIGINT.
struct ServeRunner {
    let settings: ServeConfiguration

    func run() async throws {
        let settings = Self.choosingPort(self.settings)
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "halyard")
        logger.logLevel = level
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        Self.raiseOpenFileLimit(toServe: settings.limits.maxConnections, logger: logger)

        do {
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw fail("cannot create the data directory \(settings.dataDirectory): \(error.localizedDescription)", exitCode: 2)
        }
        let database: StateDatabase
        do {
            database = try StateDatabase(path: settings.dataDirectory + "/halyard.sqlite")
            try database.replaceStaticSubscriptions(settings.subscriptions)
        } catch {
            // A database that cannot be opened, or a static subscription with a bad URL or secret, is a set-up error.
            throw fail("\(error)", exitCode: 2)
        }

        let httpClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: WebhookDeliverer.httpClientConfiguration()
        )
        let deliverer = WebhookDeliverer(database: database, httpClient: httpClient, logger: logger)
        let store = FlagStore()
        let events = EventHub()
        let watcher = FlagWatcher(
            configuration: WatcherConfiguration(
                source: settings.repoURL == "." ? .local(path: FileManager.default.currentDirectoryPath) : .remote(url: settings.repoURL),
                branch: settings.branch,
                flagsDirectory: settings.flagsDirectory,
                pollInterval: settings.pollInterval,
                dataDirectory: settings.dataDirectory,
                credentials: credentials,
                publicBaseURL: settings.publicBaseURL
            ),
            store: store,
            database: database,
            listeners: [events, DeliveryTrigger(deliverer: deliverer)],
            logger: logger
        )
        let api = HTTPAPI(
            configuration: HTTPAPIConfiguration(
                host: settings.host,
                port: settings.port,
                adminToken: settings.adminToken,
                readTokens: settings.readTokens,
                gitHookSecret: settings.gitHookSecret,
                limits: settings.limits,
                subscriptionPolicy: SubscriptionPolicy(allowedHosts: settings.allowedHosts)
            ),
            store: store,
            watcher: watcher,
            database: database,
            events: events,
            metricsRegistry: registry,
            logger: logger
        )
        let mode = settings.repoURL == "." ? "local mode, \(FileManager.default.currentDirectoryPath)" : settings.repoURL
        let startLogger = logger
        let app = api.makeApplication { channel in
            let port = channel.localAddress?.port ?? settings.port
            startLogger.notice("halyard is serving", metadata: ["url": "http://\(settings.host):\(port)", "repository": "\(mode)"])
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: watcher),
                    .init(service: deliverer),
                    .init(service: app),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            events.shutdown()
            try? await httpClient.shutdown()
            throw fail("\(error)")
        }
        events.shutdown()
        try await httpClient.shutdown()
        logger.notice("halyard stopped")
    }

    /// With `http.port` 0 and no `http.publicURL`, picks the free port now: `flagsUrl` in webhook bodies must name the
    /// real port, and a body can be written before the server has bound its socket.
    private static func choosingPort(_ settings: ServeConfiguration) -> ServeConfiguration {
        var settings = settings
        if settings.port == 0, settings.publicURL == nil, let port = FreePort.find(host: settings.host) {
            settings.port = port
        }
        return settings
    }

    /// Raises the soft open-file limit so that `limits.maxConnections` connections (plus the database, git and
    /// logs) fit; below it the kernel, not Halyard, would refuse connections, and clients would wait unanswered.
    private static func raiseOpenFileLimit(toServe connections: Int, logger: Logger) {
        #if os(Linux)
            let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
            let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return }
        let wanted = rlim_t(connections + 1_024)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(resource, &limit)
        }
        if limit.rlim_cur < wanted {
            logger.warning(
                "the open-file limit is below limits.maxConnections: connections beyond it wait instead of getting 503",
                metadata: ["limit": "\(limit.rlim_cur)", "limits.maxConnections": "\(connections)"]
            )
        }
    }

    private var credentials: Credentials? {
        if let key = settings.sshPrivateKey {
            return .sshKey(
                privateKeyPath: key,
                publicKeyPath: settings.sshPublicKey,
                passphrase: settings.sshPassphrase,
                username: settings.repoUsername ?? "git"
            )
        }
        if let token = settings.repoToken {
            return .token(token, username: settings.repoUsername ?? "x-access-token")
        }
        return nil
    }

    private func fail(_ message: String, exitCode: Int32 = 1) -> any Error {
        printError("error: \(message)")
        return ExitCode(exitCode)
    }
}

/// Wakes the webhook deliverer as soon as the watcher has written new messages to the outbox.
struct DeliveryTrigger: ChangeListener {
    let deliverer: WebhookDeliverer

    func flagsApplied(_ change: AppliedChange) {
        deliverer.wake()
    }
}
