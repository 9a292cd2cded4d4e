//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardClient
import HalyardRules
import HalyardService
import HalyardSync
import HalyardTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Flag files the client tests serve: boolean flags of every reason, and typed flags of every kind.
enum ClientFlagFiles {
    static let checkout = """
        {"active": true, "rules": [
          [{"type": "filter", "attribute": "customer", "operator": "in", "comparator": ["Disney", "Pop Tarts"]}],
          [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}, {"type": "%", "percentage": 25, "attribute": "userId"}]
        ]}
        """
    static let legacySearch = """
        {"active": true, "baseState": true, "rules": [
          [{"type": "filter", "attribute": "accountId", "operator": "in", "comparator": [1001, 1002, 1003]}],
          [{"type": "filter", "attribute": "platform", "operator": "==", "comparator": "ios"}, {"type": "filter", "attribute": "appVersion", "operator": ">=", "comparator": 5}]
        ]}
        """
    static let maintenance = #"{"active": false, "baseState": true, "rules": [[{"type": "everybody"}]]}"#
    static let staticOff = #"{"active": true, "rules": []}"#
    static let layout = """
        {"active": true, "variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"}, "defaultVariant": "classic",
         "rules": [
           {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
           {"when": [{"type": "filter", "attribute": "country", "operator": "in", "comparator": "NL, BE"}],
            "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}
         ]}
        """
    static let discount = """
        {"active": true, "variants": {"none": 0, "some": 10, "half": 0.5}, "defaultVariant": "none",
         "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}],
                    "split": {"attribute": "userId", "variants": [{"variant": "some", "percentage": 33.33}, {"variant": "half", "percentage": 66.67}]}}]}
        """
    static let banner = """
        {"active": true, "variants": {"plain": {"text": "Hello", "color": "grey"}, "sale": {"text": "Sale!", "color": "red", "until": [2026, 12, 31]}},
         "defaultVariant": "plain", "rules": [{"when": [{"type": "filter", "attribute": "country", "operator": "==", "comparator": "NL"}], "serve": "sale"}]}
        """
    static let disabledTyped = #"{"active": false, "variants": {"a": "A", "b": "B"}, "defaultVariant": "b", "rules": [{"when": [], "serve": "a"}]}"#

    /// Writes every flag into `flags/production/` (and one into `flags/staging/`).
    static func seed(_ repository: GitRepository) throws {
        let files: [String: String] = [
            "new-checkout": checkout, "legacy-search": legacySearch, "maintenance": maintenance, "static-off": staticOff,
            "checkout-layout": layout, "discount": discount, "banner": banner, "disabled-typed": disabledTyped,
        ]
        for (id, text) in files {
            try repository.write("flags/production/\(id).json", text)
        }
        try repository.write("flags/staging/new-checkout.json", staticOff)
    }

    /// A boolean flag on for everybody (`active`) or off for everybody.
    static func everybody(_ on: Bool) -> String {
        on ? #"{"active": true, "rules": [[]]}"# : #"{"active": true, "rules": []}"#
    }
}

/// A whole `halyard serve` (HalyardService: a local repository, the SQLite state, the watcher, the deliverer and the
/// HTTP server on a loopback port), run in-process; it can be stopped and started again on the same port and data.
final class HalyardFixture: Sendable {
    let repository: GitRepository
    let dataDirectory: String
    private let running = Mutex<(service: HalyardService, group: ServiceGroup, task: Task<Void, any Error>)?>(nil)
    private let boundPort = Mutex(0)

    /// Commits the seed and starts the service; returns once it serves the commit and listens.
    init(seed: (GitRepository) throws -> Void = ClientFlagFiles.seed) async throws {
        repository = try GitRepository(prefix: "halyard-client")
        try seed(repository)
        try repository.commit("initial flags")
        dataDirectory = try TemporaryDirectory.make(prefix: "halyard-client-data")
        try await start()
    }

    /// The running service.
    var service: HalyardService { running.withLock { $0!.service } }

    /// `http://127.0.0.1:<port>`.
    var baseURL: String { "http://127.0.0.1:\(boundPort.withLock { $0 })" }

    /// Starts the service, on the port it had before if it ran already.
    func start() async throws {
        var logger = Logger(label: "halyard-client-tests")
        logger.logLevel = .critical
        let port = boundPort.withLock { $0 }
        let service = try HalyardService(
            configuration: ServiceConfiguration(
                repository: WatcherConfiguration(source: .local(path: repository.path), branch: "main", localPollInterval: .milliseconds(50)),
                http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: port, sseKeepAlive: .seconds(1)),
                notify: ServiceConfiguration.Notify(delivers: true, allowPrivateNetworks: true),
                dataDirectory: dataDirectory,
                logLevel: .critical
            ),
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [service], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        let task = Task { try await group.run() }
        running.withLock { $0 = (service, group, task) }
        try await eventually("Halyard serves a commit and listens") {
            service.store.current != nil && service.publicBaseURL != nil
        }
        let url = service.publicBaseURL ?? ""
        let bound = Int(url.split(separator: ":").last ?? "") ?? 0
        boundPort.withLock { $0 = bound }
    }

    /// Shuts the service down gracefully and waits until it has stopped.
    func stop() async {
        guard let current = running.withLock({ $0 }) else { return }
        await current.group.triggerGracefulShutdown()
        _ = await current.task.result
        running.withLock { $0 = nil }
    }

    /// Writes `files` (path → text), commits, and waits until the service serves the commit.
    @discardableResult
    func commit(_ files: [String: String], message: String = "change") async throws -> String {
        for (path, text) in files {
            try repository.write(path, text)
        }
        let commit = try repository.commit(message)
        let service = self.service
        try await eventually("Halyard serves \(commit)") { service.store.current?.commit == commit }
        return commit
    }

    /// The server's own evaluation of `id` in `environment`.
    func serverEvaluation(_ id: String, environment: String = "production", context: EvaluationContext) -> Evaluation? {
        service.store.current?.snapshot.environments[environment]?.flags[id]?.flag.evaluate(context)
    }

    /// Stops the service and removes its files.
    func destroy() async {
        await stop()
        repository.destroy()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// A client running in a task, cancelled by ``stop()``.
struct RunningClient {
    let client: HalyardClient
    let task: Task<Void, any Error>

    static func start(_ configuration: HalyardClientConfiguration) throws -> RunningClient {
        var logger = Logger(label: "halyard-client")
        logger.logLevel = .critical
        let client = try HalyardClient(configuration: configuration, logger: logger)
        return RunningClient(client: client, task: Task { try await client.run() })
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Waits until the client holds `commit`.
    func waitFor(_ commit: String, timeout: Duration = .seconds(20)) async throws {
        try await eventually("the client holds \(commit)", timeout: timeout) { client.flagSet?.commit == commit }
    }
}

/// A temporary cache file path (the file does not exist yet).
func temporaryCachePath() throws -> String {
    try TemporaryDirectory.make(prefix: "halyard-client-cache") + "/flags.json"
}
