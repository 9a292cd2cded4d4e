import AsyncHTTPClient
import Foundation
import HalyardTesting
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `halyard serve` process on a flag repository, as an operator runs it: local mode in the repository directory,
/// a JSON config file, a random port read back from the "halyard is serving" log line.
///
/// Not `Sendable`: a test owns it and stops it from its own task, usually in a `defer { serve.kill() }`.
final class HalyardServeProcess {
    let process: Process
    /// Where the process writes its log (standard error).
    let logPath: String
    /// `http://127.0.0.1:<port>`.
    private(set) var baseURL = ""

    /// Starts `halyard serve --config <config>` in `directory` and waits until it listens and `/readyz` answers 200.
    static func start(in directory: String, config: String, logPath: String) async throws -> HalyardServeProcess {
        let serve = try HalyardServeProcess(directory: directory, config: config, logPath: logPath)
        do {
            try await serve.waitUntilReady()
        } catch {
            serve.kill()
            throw error
        }
        return serve
    }

    private init(directory: String, config: String, logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        self.process = Process()
        self.process.executableURL = HalyardBinary.url
        self.process.arguments = ["serve", "--config", config, "--port", "0", "--log-level", "info"]
        self.process.currentDirectoryURL = URL(fileURLWithPath: directory)
        self.process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HALYARD_") }
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()
    }

    /// The log so far.
    var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    private func waitUntilReady() async throws {
        try await eventually("halyard serve logs \"halyard is serving\"\n\(self.log)", timeout: .seconds(30), retrying: ServeError.meansNotYet) {
            guard self.process.isRunning else { throw ServeError("halyard serve exited early:\n\(self.log)") }
            guard let line = self.log.split(separator: "\n").first(where: { $0.contains("halyard is serving") }),
                let range = line.range(of: #"url=http://[^ ]+"#, options: .regularExpression)
            else { return false }
            self.baseURL = String(line[range].dropFirst("url=".count))
            return true
        }
        try await eventually("GET /readyz answers 200", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
            try await ServeHTTP.get(self.baseURL + "/readyz").status == 200
        }
    }

    /// `GET /v1/status` as JSON.
    func status() async throws -> [String: Any] {
        try await ServeHTTP.getJSON(self.baseURL + "/v1/status")
    }

    /// Waits until the service serves `commit` (local mode looks at the branch every second).
    func waitUntilApplied(_ commit: String) async throws {
        try await eventually("halyard applies \(commit)\n\(self.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
            try await self.status()["commit"] as? String == commit
        }
    }

    /// Waits until the service has rejected `commit` and goes on serving the last good one.
    func waitUntilRejected(_ commit: String) async throws {
        try await eventually("halyard rejects \(commit)\n\(self.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
            (try await self.status()["rejected"] as? [String: Any])?["commit"] as? String == commit
        }
    }

    /// Sends SIGTERM, as an orchestrator stopping the service would, and returns the exit status; throws if the process
    /// is still running after `timeout`.
    func terminate(timeout: Duration) async throws -> Int32 {
        #if canImport(Glibc)
            _ = Glibc.kill(self.process.processIdentifier, SIGTERM)
        #else
            _ = Darwin.kill(self.process.processIdentifier, SIGTERM)
        #endif
        try await eventually("halyard serve exits after SIGTERM\n\(self.log)", timeout: timeout, retrying: ServeError.meansNotYet) {
            !self.process.isRunning
        }
        return self.process.terminationStatus
    }

    /// Sends SIGKILL, as a crash or the OOM killer would, and waits for the process to end. Safe to call twice.
    func kill() {
        guard self.process.isRunning else { return }
        #if canImport(Glibc)
            _ = Glibc.kill(self.process.processIdentifier, SIGKILL)
        #else
            _ = Darwin.kill(self.process.processIdentifier, SIGKILL)
        #endif
        self.process.waitUntilExit()
    }
}

/// A webhook receiver inside the test: the shared ``TestReceiver``, answering with a status the test can change while
/// it runs (503 to keep a message pending, then 204), and remembering the status each request was answered with.
final class WebhookReceiver: Sendable {
    /// One request as received, and the status it was answered with.
    struct Call: Sendable {
        /// Header values by lower-cased name.
        var headers: [String: String]
        var body: [UInt8]
        var answeredStatus: Int

        var webhookID: String? { self.headers["webhook-id"] }
        var succeeded: Bool { (200..<300).contains(self.answeredStatus) }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any] }
    }

    private struct State {
        var status: Int
        var calls: [Call] = []
    }

    private let state: Mutex<State>

    private init(status: Int) {
        self.state = Mutex(State(status: status))
    }

    /// Runs `body` with a receiver that answers `status` until told otherwise, and stops the receiver afterwards.
    static func with<T>(status: Int, _ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let receiver = WebhookReceiver(status: status)
        let server = try await TestReceiver.start { request, _ in receiver.record(request) }
        receiver.server.withLock { $0 = server }
        do {
            let result = try await body(receiver)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    private let server = Mutex<TestReceiver?>(nil)

    private func record(_ request: TestReceiver.Received) -> TestReceiver.Reply {
        let status = self.state.withLock { state in
            state.calls.append(Call(headers: request.headers, body: request.body, answeredStatus: state.status))
            return state.status
        }
        return .status(status)
    }

    /// The URL to subscribe.
    var url: String { self.server.withLock { $0 }?.url() ?? "" }

    /// Every request so far, in arrival order.
    var calls: [Call] { self.state.withLock { $0.calls } }

    /// The connections open now; 0 once a dead client's connections closed and every request on them was answered.
    var openConnections: Int { self.server.withLock { $0 }?.openConnections ?? 0 }

    /// Answers every later request with `status`.
    func answer(_ status: Int) {
        self.state.withLock { $0.status = status }
    }
}

/// A temporary flag repository and, beside it, the data directory and config file of `halyard serve`.
struct ServeFixture {
    let workspace: GitRepository
    let directory: String

    /// The Standard Webhooks test secret.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    init() throws {
        self.workspace = try GitRepository(prefix: "halyard-cli")
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    var dataDirectory: String { self.directory + "/data" }
    var configPath: String { self.directory + "/halyard.json" }

    /// Writes the config file: a random port, the data directory, an admin token and one static subscription.
    func writeConfig(subscribing url: String, to environments: [String]) throws {
        let config: [String: Any] = [
            "dataDir": self.dataDirectory,
            "auth": ["adminToken": "test-admin-token"],
            "notify": ["allowPrivateNetworks": true],  // the receivers listen on loopback
            "subscriptions": [["url": url, "environments": environments, "secret": Self.secret]],
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: self.configPath))
    }

    /// Starts `halyard serve` in the repository; `run` numbers the log files of successive processes.
    func serve(run: Int) async throws -> HalyardServeProcess {
        try await HalyardServeProcess.start(in: self.workspace.path, config: self.configPath, logPath: self.directory + "/serve-\(run).log")
    }

    func remove() {
        self.workspace.destroy()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

struct ServeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// For ``eventually(_:timeout:interval:retrying:_:)``: an error while polling `halyard serve` means "not yet" (the
    /// server may not listen yet), except a ``ServeError``, which ends the wait at once.
    static func meansNotYet(_ error: any Error) -> Bool {
        !(error is ServeError)
    }
}

/// Plain HTTP calls to `halyard serve`.
enum ServeHTTP {
    static func get(_ url: String, bearer: String? = nil) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        if let bearer { request.headers.add(name: "authorization", value: "Bearer \(bearer)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Array(buffer: body))
    }

    static func getJSON(_ url: String, bearer: String? = nil) async throws -> [String: Any] {
        let (status, body) = try await self.get(url, bearer: bearer)
        guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ServeError("GET \(url): \(status) \(String(decoding: body, as: UTF8.self))")
        }
        return object
    }
}
