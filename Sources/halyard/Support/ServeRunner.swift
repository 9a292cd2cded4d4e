import ArgumentParser
import Foundation
import HalyardGit
import HalyardServer
import HalyardService
import HalyardSync
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `halyard serve`: process-wide set-up (logging, metrics, umask, the open-file limit, the data directory), then
/// the ``HalyardService`` built from the loaded configuration, until SIGTERM/SIGINT.
struct ServeRunner {
    let settings: ServeConfiguration

    func run() async throws {
        let settings = self.settings
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
        for warning in settings.signatureWarnings { logger.warning("repo.verify.allowedSigners: \(warning)") }
        let service: HalyardService
        do {
            service = try HalyardService(configuration: serviceConfiguration(level: level), logger: logger, metricsRegistry: registry)
        } catch {
            // A database that cannot be opened, or a static subscription with a bad URL or secret, is a set-up error.
            throw fail("\(error)", exitCode: 2)
        }
        do {
            try await service.run(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch let error as HalyardService.StartError {
            // PostgreSQL (state.url) is reached only once the service runs: failing to is a set-up error too.
            throw fail("\(error)", exitCode: 2)
        } catch {
            throw fail("\(error)")
        }
        logger.notice("halyard stopped")
    }

    /// The loaded configuration as the service's typed one.
    private func serviceConfiguration(level: Logger.Level) -> ServiceConfiguration {
        let local = settings.repoURL == "."
        var configuration = ServiceConfiguration(
            repository: WatcherConfiguration(
                source: local ? .local(path: FileManager.default.currentDirectoryPath) : .remote(url: settings.repoURL),
                branch: settings.branch,
                flagsDirectory: settings.flagsDirectory,
                pollInterval: settings.pollInterval,
                dataDirectory: settings.dataDirectory,
                credentials: credentials,
                trust: RemoteTrust(certificateAuthorityFile: settings.tlsCAFile, knownHostsFile: settings.knownHostsFile),
                signatures: settings.signatures
            ),
            http: ServiceConfiguration.HTTP(
                host: settings.host,
                port: settings.port,
                publicURL: settings.publicURL,
                auth: ServiceConfiguration.Auth(
                    adminToken: settings.adminToken,
                    readTokens: settings.readTokens,
                    gitHookSecret: settings.gitHookSecret
                ),
                limits: settings.limits
            ),
            notify: ServiceConfiguration.Notify(
                allowPrivateNetworks: settings.allowPrivateNetworks,
                allowedHosts: settings.allowedHosts,
                staticSubscriptions: settings.subscriptions
            ),
            dataDirectory: settings.dataDirectory,
            logLevel: level
        )
        configuration.state = ServiceConfiguration.State(
            url: settings.stateURL,
            password: settings.statePassword,
            claimLease: settings.claimLease
        )
        configuration.http.uiEnabled = settings.uiEnabled
        return configuration
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
