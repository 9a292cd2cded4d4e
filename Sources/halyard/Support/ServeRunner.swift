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

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

        // Everything the service creates (mirror, database, journals) is for its own user only.
        umask(0o077)
        do {
            if let warning = try PrivateDirectory.prepare(settings.dataDirectory) { logger.warning("\(warning)") }
        } catch {
            throw fail("\(error)", exitCode: 2)
        }
        warnAboutWeakTokens(logger)
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
        let store = FlagStore()
        // Messages of a commit wait until the store serves it; DeliveryTrigger wakes the deliverer right after the swap.
        let deliverer = WebhookDeliverer(
            database: database,
            httpClient: httpClient,
            configuration: WebhookDeliverer.Configuration(
                allowPrivateNetworks: settings.allowPrivateNetworks,
                allowedHosts: settings.allowedHosts
            ),
            servedCommit: { store.current?.commit },
            logger: logger
        )
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

    /// The shortest admin token, read token or git hook secret that start-up accepts without a warning.
    static let minimumTokenLength = 16

    /// Warns about each token short enough to guess, naming its key and never its value.
    private func warnAboutWeakTokens(_ logger: Logger) {
        var keys: [String] = []
        if let token = settings.adminToken, !token.isEmpty, token.count < Self.minimumTokenLength { keys.append("auth.adminToken") }
        for (index, token) in settings.readTokens.enumerated() where token.count < Self.minimumTokenLength {
            keys.append("auth.readTokens[\(index)]")
        }
        if let secret = settings.gitHookSecret, !secret.isEmpty, secret.count < Self.minimumTokenLength { keys.append("auth.gitHookSecret") }
        for key in keys {
            logger.warning(
                "\(key) is shorter than \(Self.minimumTokenLength) characters and easy to guess; generate one with: openssl rand -hex 32"
            )
        }
    }

    private func fail(_ message: String, exitCode: Int32 = 1) -> any Error {
        printError("error: \(message)")
        return ExitCode(exitCode)
    }
}

/// Wakes the webhook deliverer as soon as the watcher serves a commit whose messages it wrote to the outbox (the
/// deliverer holds them back until then).
struct DeliveryTrigger: ChangeListener {
    let deliverer: WebhookDeliverer

    func flagsApplied(_ change: AppliedChange) {
        deliverer.wake()
    }
}

/// The data directory, made private to the service's user: it holds the mirror of the flag repository and the state
/// database with every subscription's `whsec_` secret.
enum PrivateDirectory {
    /// A data directory that cannot be created or made private.
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "data directory \(path): \(reason)" }
    }

    /// Creates `path` with mode 0700, or sets an existing one to 0700.
    ///
    /// - Returns: A warning when the directory is shared with other users (sticky bit, as `/tmp`) and its mode was left
    ///   alone.
    /// - Throws: ``Failure`` when the directory cannot be created or its mode cannot be set.
    static func prepare(_ path: String) throws(Failure) -> String? {
        var info = stat()
        if stat(path, &info) != 0 {
            do {
                try FileManager.default.createDirectory(
                    atPath: path,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700]
                )
            } catch {
                throw Failure(path: path, reason: "cannot create it: \(error.localizedDescription)")
            }
            guard stat(path, &info) == 0 else { throw Failure(path: path, reason: "cannot read it after creating it") }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(path: path, reason: "exists and is not a directory") }
        if info.st_mode & S_ISVTX != 0 {
            return "data directory \(path) is shared (sticky bit); its mode stays as it is: use a directory of its own"
        }
        guard info.st_mode & 0o7777 != 0o700 else { return nil }
        guard chmod(path, 0o700) == 0 else {
            throw Failure(path: path, reason: "cannot make it private (chmod 0700): \(String(cString: strerror(errno)))")
        }
        return nil
    }
}
