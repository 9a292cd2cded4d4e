//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardNotify
import HalyardServer
import HalyardService
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

/// Flag files as the tests write them.
enum FlagFile {
    /// A flag on for `plan == value`.
    static func plan(_ value: String, active: Bool = true, name: String? = nil) -> String {
        let nameField = name.map { #""name": "\#($0)", "# } ?? ""
        return """
            {\(nameField)"active": \(active), "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "\(value)"}]]}
            """
    }

    /// A flag on for everybody.
    static let everybody = #"{"active": true, "rules": [[]]}"#
    /// A flag off for everybody.
    static let nobody = #"{"active": true, "rules": []}"#
}

/// Counts calls of the refresh closure.
final class CallCounter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A whole `halyard serve` minus the CLI, built by ``HalyardService``: a repository, a state database, a watcher in
/// local mode and the HTTP API. The tests drive its router through HummingbirdTesting.
struct ServerFixture {
    let repository: GitRepository
    let service: HalyardService
    let store: FlagStore
    let database: StateDatabase
    let hub: EventHub
    let watcher: FlagWatcher
    let registry: PrometheusCollectorRegistry
    let api: HTTPAPI
    let refreshes: CallCounter
    /// The webhook deliverer, when the fixture was asked for one.
    let deliverer: WebhookDeliverer?

    /// Creates the fixture. `seed` writes the first commit's files; it is committed before the watcher starts.
    init(
        configuration: HTTPAPIConfiguration = HTTPAPIConfiguration(adminToken: "admin-secret", gitHookSecret: "hook-secret"),
        localPollInterval: Duration = .milliseconds(100),
        webhookClient: HTTPClient? = nil,
        seed: (GitRepository) throws -> Void = { repository in
            try repository.write("flags/production/new-checkout.json", FlagFile.plan("enterprise"))
            try repository.write("flags/production/dark-mode.json", FlagFile.everybody)
            try repository.write("flags/staging/new-checkout.json", FlagFile.everybody)
        }
    ) throws {
        repository = try GitRepository()
        try seed(repository)
        try repository.commit("initial flags")
        let dataDirectory = try TemporaryDirectory.make(prefix: "halyard-server-data")
        var logger = Logger(label: "halyard-server-tests")
        logger.logLevel = .critical
        registry = PrometheusCollectorRegistry()
        let counter = CallCounter()
        refreshes = counter
        var serviceConfiguration = ServiceConfiguration(
            repository: WatcherConfiguration(
                source: .local(path: repository.path),
                branch: "main",
                localPollInterval: localPollInterval
            ),
            http: ServiceConfiguration.HTTP(
                host: configuration.host,
                port: configuration.port,
                // The router tests never bind a socket, so the webhooks' `flagsUrl` names a fixed address.
                publicURL: "http://127.0.0.1:8080",
                auth: ServiceConfiguration.Auth(
                    adminToken: configuration.adminToken,
                    readTokens: configuration.readTokens,
                    gitHookSecret: configuration.gitHookSecret
                ),
                limits: configuration.limits,
                sseKeepAlive: configuration.sseKeepAlive,
                serverName: configuration.serverName
            ),
            // The receivers listen on loopback.
            notify: ServiceConfiguration.Notify(
                delivers: webhookClient != nil,
                allowPrivateNetworks: true,
                allowedHosts: configuration.subscriptionPolicy.allowedHosts
            ),
            dataDirectory: dataDirectory,
            logLevel: .critical
        )
        serviceConfiguration.http.uiEnabled = configuration.console.enabled
        service = try HalyardService(
            configuration: serviceConfiguration,
            logger: logger,
            metricsRegistry: registry,
            webhookClient: webhookClient,
            onRefreshRequest: { counter.increment() }
        )
        store = service.store
        database = service.database
        hub = service.events
        watcher = service.watcher
        api = service.api
        deliverer = service.deliverer
    }

    /// The application with the watcher running beside the server.
    func application() -> some ApplicationProtocol {
        var logger = Logger(label: "halyard-server-tests")
        logger.logLevel = .critical
        let services: [any Service] = [watcher] + (deliverer.map { [$0] } ?? [])
        return Application(router: api.makeRouter(), services: services, logger: logger)
    }

    /// Waits until the store serves `commit` (or any commit, when nil).
    func waitUntilServing(_ commit: String? = nil, timeout: Duration = .seconds(20)) async throws {
        try await eventually("the store serves \(commit ?? "a commit")", timeout: timeout) {
            guard let current = store.current else { return false }
            return commit == nil || current.commit == commit
        }
    }

    /// Waits until the watcher rejected `commit`.
    func waitUntilRejected(_ commit: String, timeout: Duration = .seconds(20)) async throws {
        try await eventually("the watcher rejects \(commit)", timeout: timeout) {
            store.status.rejected?.commit == commit
        }
    }
}

extension TestResponse {
    /// The body as a string.
    var text: String { String(buffer: body) }

    /// The body parsed as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// The `error` of an error body.
    var error: String? { json["error"] as? String }
}

extension ByteBuffer {
    /// A buffer holding a string.
    static func string(_ value: String) -> ByteBuffer { ByteBuffer(string: value) }
}

extension HTTPFields {
    /// `Authorization: Bearer <token>`.
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
}
