import AsyncHTTPClient
import Foundation
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
        try await eventually("halyard serve logs \"halyard is serving\"\n\(self.log)", timeout: .seconds(30)) {
            guard self.process.isRunning else { throw ServeError("halyard serve exited early:\n\(self.log)") }
            guard let line = self.log.split(separator: "\n").first(where: { $0.contains("halyard is serving") }),
                let range = line.range(of: #"url=http://[^ ]+"#, options: .regularExpression)
            else { return false }
            self.baseURL = String(line[range].dropFirst("url=".count))
            return true
        }
        try await eventually("GET /readyz answers 200", timeout: .seconds(15)) {
            try await ServeHTTP.get(self.baseURL + "/readyz").status == 200
        }
    }

    /// `GET /v1/status` as JSON.
    func status() async throws -> [String: Any] {
        try await ServeHTTP.getJSON(self.baseURL + "/v1/status")
    }

    /// Waits until the service serves `commit` (local mode looks at the branch every second).
    func waitUntilApplied(_ commit: String) async throws {
        try await eventually("halyard applies \(commit)\n\(self.log)", timeout: .seconds(15)) {
            try await self.status()["commit"] as? String == commit
        }
    }

    /// Waits until the service has rejected `commit` and goes on serving the last good one.
    func waitUntilRejected(_ commit: String) async throws {
        try await eventually("halyard rejects \(commit)\n\(self.log)", timeout: .seconds(15)) {
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
        try await eventually("halyard serve exits after SIGTERM\n\(self.log)", timeout: timeout) { !self.process.isRunning }
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

/// A webhook receiver inside the test: a Hummingbird application on a free loopback port that records every request
/// and answers with a status the test can change while it runs (503 to keep a message pending, then 204).
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
    private let server = Mutex<(port: Int, running: RunningReceiverServer?)>((0, nil))

    private init(status: Int) {
        self.state = Mutex(State(status: status))
    }

    /// Runs `body` with a receiver that answers `status` until told otherwise, and stops the receiver afterwards.
    static func with<T>(status: Int, _ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let receiver = try await Self.start(status: status)
        do {
            let result = try await body(receiver)
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }

    private static func start(status: Int) async throws -> WebhookReceiver {
        let receiver = WebhookReceiver(status: status)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            try await receiver.record(request)
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let running = RunningReceiverServer(app, logger: logger)
        var port = 0
        for await value in ports {
            port = value
        }
        receiver.server.withLock { $0 = (port, running) }
        return receiver
    }

    private func record(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName.lowercased()] = field.value
        }
        let status = self.state.withLock { state in
            state.calls.append(Call(headers: headers, body: Array(buffer: body), answeredStatus: state.status))
            return state.status
        }
        return Response(status: HTTPResponse.Status(code: status))
    }

    /// The URL to subscribe.
    var url: String { "http://127.0.0.1:\(self.server.withLock { $0.port })/hook" }

    /// Every request so far, in arrival order.
    var calls: [Call] { self.state.withLock { $0.calls } }

    /// Answers every later request with `status`.
    func answer(_ status: Int) {
        self.state.withLock { $0.status = status }
    }

    private func stop() async {
        await self.server.withLock { $0.running }?.stop()
    }
}

/// A receiver's HTTP server, running in a service group until ``stop()`` shuts it down gracefully.
///
/// Never stop a receiver by cancelling its task: cancelling drops the connections accepted but not yet handled, and
/// NIO traps on their unfinished writers ("Deinited NIOAsyncWriter without calling finish()").
struct RunningReceiverServer: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ service: some Service, logger: Logger) {
        var configuration = ServiceGroupConfiguration(services: [service], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: configuration)
        self.group = group
        self.task = Task { try await group.run() }
    }

    /// Stops accepting, lets the requests in progress end, and returns once the server is down.
    func stop() async {
        await self.group.triggerGracefulShutdown()
        _ = await self.task.result
    }
}

/// A temporary flag repository and, beside it, the data directory and config file of `halyard serve`.
struct ServeFixture {
    let workspace: Workspace
    let directory: String

    /// The Standard Webhooks test secret.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    init() throws {
        self.workspace = try Workspace()
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
        self.workspace.remove()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

struct ServeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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

/// Polls `condition` every 50 ms until it holds, and throws after `timeout`.
///
/// Errors thrown by `condition` count as "not yet" (the server may not listen yet), except a ``ServeError``, which
/// ends the wait at once.
func eventually(_ what: @autoclosure () -> String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            if try await condition() { return }
        } catch let error as ServeError {
            throw error
        } catch {}
        guard ContinuousClock.now < deadline else { throw ServeError("timed out after \(timeout) waiting until \(what())") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
