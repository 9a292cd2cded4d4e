import AsyncHTTPClient
import Foundation
import HalyardNotify
import HalyardTesting
import NIOCore
import Synchronization
import Testing

extension Tag {
    /// Tests that need PostgreSQL: several `halyard serve` replicas on one database (DESIGN §10).
    @Tag static var postgres: Self
}

/// Several `halyard serve` replicas of one flag repository, sharing one PostgreSQL database, each with a data
/// directory and config file of its own (DESIGN §10).
///
/// In local mode (the default) every replica runs in the repository and looks at its branch every second; in remote
/// mode each mirrors it into its data directory and fetches only every hour, on `/v1/refresh` or on a shared trigger.
final class ReplicaCluster {
    /// A static subscription written into every replica's config.
    struct StaticSubscription {
        var url: String
        var environments: [String]
    }

    let workspace: GitRepository
    let directory: String
    let stateURL: String
    let remote: Bool
    private(set) var replicas: [HalyardServeProcess?]
    private var runs = 0

    static let adminToken = "test-admin-token"

    init(stateURL: String, count: Int, remote: Bool = false, subscriptions: [StaticSubscription] = []) throws {
        self.workspace = try GitRepository(prefix: "halyard-replicas")
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-replicas-\(UUID().uuidString)").path
        self.stateURL = stateURL
        self.remote = remote
        self.replicas = Array(repeating: nil, count: count)
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        for index in 0..<count {
            var config: [String: Any] = [
                "dataDir": self.directory + "/data-\(index)",
                "auth": ["adminToken": Self.adminToken],
                "notify": ["allowPrivateNetworks": true],  // the receivers listen on loopback
                "state": ["url": stateURL],
                "subscriptions": subscriptions.map { ["url": $0.url, "environments": $0.environments, "secret": ServeFixture.secret] },
            ]
            if remote {
                config["repo"] = ["url": self.workspace.path, "pollInterval": "3600s"]
            }
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted])
                .write(to: URL(fileURLWithPath: self.configPath(index)))
        }
    }

    func configPath(_ index: Int) -> String { self.directory + "/replica-\(index).json" }

    /// Starts replica `index` (again) and waits until it is ready.
    @discardableResult
    func start(_ index: Int) async throws -> HalyardServeProcess {
        self.runs += 1
        let serve = try await HalyardServeProcess.start(
            in: self.remote ? self.directory : self.workspace.path,
            config: self.configPath(index),
            logPath: self.directory + "/replica-\(index)-run-\(self.runs).log"
        )
        self.replicas[index] = serve
        return serve
    }

    /// Starts every replica, one after the other.
    func startAll() async throws {
        for index in self.replicas.indices {
            try await self.start(index)
        }
    }

    /// Kills replica `index` with SIGKILL.
    func kill(_ index: Int) {
        self.replicas[index]?.kill()
        self.replicas[index] = nil
    }

    /// The replica at `index`, which must be running.
    func replica(_ index: Int) throws -> HalyardServeProcess {
        try #require(self.replicas[index], "replica \(index) is not running")
    }

    /// The replicas running now.
    var running: [HalyardServeProcess] { self.replicas.compactMap { $0 } }

    /// Every running replica's log, for failure messages.
    var logs: String {
        self.replicas.enumerated().compactMap { index, serve in serve.map { "--- replica \(index)\n\($0.log.suffix(4000))" } }
            .joined(separator: "\n")
    }

    /// Waits until every running replica serves `commit`.
    func waitUntilAllServe(_ commit: String, timeout: Duration = .seconds(15)) async throws {
        for serve in self.running {
            try await eventually("every replica serves \(commit)\n\(self.logs)", timeout: timeout, retrying: ServeError.meansNotYet) {
                try await serve.status()["commit"] as? String == commit
            }
        }
    }

    /// The index of the running replica whose status says it publishes, if any.
    func publisher() async -> Int? {
        for (index, serve) in self.replicas.enumerated() {
            guard let serve else { continue }
            if let state = try? await serve.status()["state"] as? [String: Any], state["publisher"] as? Bool == true {
                return index
            }
        }
        return nil
    }

    /// Waits until one running replica says it publishes, and returns it.
    func waitForPublisher() async throws -> Int {
        var found: Int?
        try await eventually("a replica publishes\n\(self.logs)", timeout: .seconds(15)) {
            found = await self.publisher()
            return found != nil
        }
        return try #require(found)
    }

    /// Waits until the published commit (as the publisher reports it) is `commit`.
    func waitUntilPublished(_ commit: String, timeout: Duration = .seconds(15)) async throws {
        try await eventually("\(commit) is published\n\(self.logs)", timeout: timeout, retrying: ServeError.meansNotYet) {
            for serve in self.running {
                let state = try await serve.status()["state"] as? [String: Any]
                if state?["publisher"] as? Bool == true, state?["publishedCommit"] as? String == commit { return true }
            }
            return false
        }
    }

    func remove() {
        for index in self.replicas.indices {
            self.kill(index)
        }
        self.workspace.destroy()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

/// One webhook call as a subscriber saw it.
struct ReceivedMessage: Sendable {
    var path: String
    var webhookID: String
    var environment: String
    var commit: String
    var previousCommit: String?
    /// Whether the signature verifies with ``ServeFixture/secret`` (or the secret given).
    var verified: Bool

    init?(_ request: TestReceiver.Received, secret: String = ServeFixture.secret) {
        guard let id = request.headers["webhook-id"], let timestamp = request.headers["webhook-timestamp"].flatMap(Int.init),
            let signature = request.headers["webhook-signature"], let data = request.json?["data"] as? [String: Any],
            let environment = data["environment"] as? String, let commit = data["commit"] as? String
        else { return nil }
        self.path = request.path
        self.webhookID = id
        self.environment = environment
        self.commit = commit
        self.previousCommit = data["previousCommit"] as? String
        let expected = (try? WebhookSigner(secret: secret))?.signature(id: id, timestamp: timestamp, body: request.body)
        self.verified = expected.map { signature.split(separator: " ").contains(Substring($0)) } ?? false
    }
}

/// Checks what subscribers received against the history of the flag repository.
enum ChainCheck {
    /// The problems found (none when all is well). For every subscriber (path) and each of its environments, the
    /// messages, deduplicated by `webhook-id` in arrival order, must chain from `commits[0]`: each message's
    /// `previousCommit` (the commit published before, DESIGN §7) is a commit already reached, or a later one with no
    /// change of the environment in between (no change skipped); its `commit` is later; and the last message reaches
    /// the environment's last change. A commit announced twice to a subscriber must carry the same `webhook-id`, and
    /// every call must verify.
    ///
    /// - Parameter changes: For each environment, the indices in `commits` of the commits that changed it.
    static func problems(
        messages: [ReceivedMessage],
        commits: [String],
        changes: [String: Set<Int>],
        subscriptions: [String: [String]]
    ) -> [String] {
        var problems: [String] = []
        let index = Dictionary(commits.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for message in messages where !message.verified {
            problems.append("\(message.path): \(message.webhookID) does not verify")
        }
        for (path, environments) in subscriptions.sorted(by: { $0.key < $1.key }) {
            for environment in environments {
                let changedAt = changes[environment] ?? []
                let received = messages.filter { $0.path == path && $0.environment == environment }
                var idByCommit: [String: String] = [:]
                var seen: Set<String> = []
                var reached = 0
                for message in received {
                    if let id = idByCommit[message.commit], id != message.webhookID {
                        problems.append("\(path) \(environment): \(message.commit) announced twice, as \(id) and \(message.webhookID)")
                    }
                    idByCommit[message.commit] = message.webhookID
                    guard seen.insert(message.webhookID).inserted else { continue }
                    guard let commit = index[message.commit], let previous = message.previousCommit.flatMap({ index[$0] }) else {
                        problems.append("\(path) \(environment): \(message.webhookID) names a commit not in the history")
                        continue
                    }
                    if previous > reached, let skipped = changedAt.filter({ $0 > reached && $0 <= previous }).min() {
                        problems.append("\(path) \(environment): the change of #\(skipped) is missing (reached #\(reached), then #\(previous) → #\(commit))")
                    }
                    if commit <= previous {
                        problems.append("\(path) \(environment): \(message.webhookID) goes backwards (#\(previous) → #\(commit))")
                    }
                    reached = max(reached, commit)
                }
                if let last = changedAt.max(), reached < last {
                    problems.append("\(path) \(environment): reached #\(reached), the last change is #\(last)")
                }
            }
        }
        return problems
    }
}

/// `POST` calls to `halyard serve` with the admin token.
enum ReplicaHTTP {
    static func post(_ url: String, json: [String: Any]? = nil) async throws -> (status: Int, body: [String: Any]?) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(ReplicaCluster.adminToken)")
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = try? JSONSerialization.jsonObject(with: Data(Array(buffer: body))) as? [String: Any]
        return (Int(response.status.code), object)
    }
}
