import AsyncHTTPClient
import Foundation
import HalyardClient
import HalyardClientHummingbird
import HalyardNotify
import HalyardService
import HalyardSync
import Hummingbird
import Logging
import Synchronization

// Measures the time from a refresh trigger (what a git host's push webhook sends) to each of 100 clients holding the
// new flags, end to end on loopback: the service as `halyard serve` assembles it (HalyardService: remote mode with a
// libgit2 fetch, the SQLite outbox, the deliverer, the HTTP server) and 100 in-process `HalyardClient`s,
//   - in stream mode: each keeps an event stream open and fetches the flags when told of the commit;
//   - in webhook mode: each is a subscriber whose Hummingbird route (HalyardClientHummingbird) verifies Halyard's
//     signed call and fetches the flags.
// A client counts as updated when its `changes` sequence delivers the commit. Issue 12: p99 under 50 ms for both.
//
//     swift run -c release --package-path Benchmarks client-propagation-bench
// BENCH_ROUNDS (default 10) and BENCH_CLIENTS (default 100) change the run.

let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 10
let clientCount = Int(ProcessInfo.processInfo.environment["BENCH_CLIENTS"] ?? "") ?? 100
let receiverServers = 10

/// When each client received each commit.
final class Arrivals: Sendable {
    private let state = Mutex<[String: [Int: ContinuousClock.Instant]]>([:])
    func record(_ commit: String, client: Int) { state.withLock { $0[commit, default: [:]][client] = .now } }
    func count(_ commit: String) -> Int { state.withLock { $0[commit]?.count ?? 0 } }
    func times(_ commit: String) -> [ContinuousClock.Instant] { state.withLock { Array(($0[commit] ?? [:]).values) } }
}

@discardableResult
func git(_ arguments: [String], in directory: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["-C", directory, "-c", "user.name=Bench", "-c", "user.email=bench@example.com"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try! process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

func flag(active: Bool) -> String {
    #"{"active": \#(active), "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}]]}"# + "\n"
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()

/// One HTTP client for all the SDK clients, with room for 100 event streams and their fetches to one host.
let httpClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clientCount * 3)
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// A repository with one flag, its bare origin, and the service following the origin.
struct Setup {
    let work: String
    let service: HalyardService
    let task: Task<Void, any Error>
    let baseURL: String

    static func start() async throws -> Setup {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-client-prop-\(UUID().uuidString)").path
        let work = root + "/work"
        let bare = root + "/flags.git"
        try FileManager.default.createDirectory(atPath: work + "/flags/production", withIntermediateDirectories: true)
        try flag(active: true).write(toFile: work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
        git(["init", "-q", "-b", "main"], in: work)
        git(["add", "-A"], in: work)
        git(["commit", "-q", "-m", "first"], in: work)
        git(["clone", "-q", "--bare", work, bare], in: root)
        git(["remote", "add", "origin", bare], in: work)
        let service = try HalyardService(
            configuration: ServiceConfiguration(
                repository: WatcherConfiguration(source: .remote(url: bare), pollInterval: .seconds(3600)),
                http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: 0),
                notify: ServiceConfiguration.Notify(allowPrivateNetworks: true),
                dataDirectory: root + "/state",
                logLevel: .critical
            ),
            logger: logger
        )
        let task = Task { try await service.run() }
        while service.store.current == nil || service.publicBaseURL == nil { try await Task.sleep(for: .milliseconds(10)) }
        return Setup(work: work, service: service, task: task, baseURL: service.publicBaseURL!)
    }
}

/// Starts `clients`, records every change they see, and measures `rounds` commits; prints the figures.
func measure(_ name: String, setup: Setup, clients: [HalyardClient]) async throws {
    let arrivals = Arrivals()
    var tasks: [Task<Void, any Error>] = []
    for (index, client) in clients.enumerated() {
        let changes = client.changes
        tasks.append(Task { for await change in changes { arrivals.record(change.commit, client: index) } })
        tasks.append(Task { try await client.run() })
    }
    defer { for task in tasks { task.cancel() } }
    let first = setup.service.store.current!.commit
    let ready = ContinuousClock.now + .seconds(60)
    while clients.contains(where: { $0.flagSet?.commit != first }) && ContinuousClock.now < ready {
        try await Task.sleep(for: .milliseconds(10))
    }
    try await Task.sleep(for: .milliseconds(500))  // the event streams connect after the first fetch

    var latencies: [Double] = []
    var slowest: [Double] = []
    for round in 1...rounds {
        try flag(active: round % 2 == 0).write(toFile: setup.work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
        git(["commit", "-q", "-am", "round \(round)"], in: setup.work)
        git(["push", "-q", "origin", "main"], in: setup.work)
        let expected = git(["rev-parse", "HEAD"], in: setup.work)
        let start = ContinuousClock.now
        setup.service.watcher.requestRefresh()
        let deadline = start + .seconds(30)
        while arrivals.count(expected) < clients.count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        let times = arrivals.times(expected).map { milliseconds($0 - start) }
        latencies += times
        slowest.append(times.max() ?? .infinity)
        if times.count < clients.count { print("  round \(round): only \(times.count) of \(clients.count) clients updated") }
        try await Task.sleep(for: .milliseconds(100))
    }
    latencies.sort()
    slowest.sort()
    print(
        String(
            format: "%@: trigger to client updated: median %.1f ms, p99 %.1f ms, max %.1f ms (%d clients × %d rounds; slowest client per round, median %.1f ms)",
            name, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? .infinity, clients.count, rounds,
            percentile(slowest, 0.5)))
}

print("HalyardClient propagation benchmark (loopback, \(clientCount) clients)")

// Stream mode.
do {
    let setup = try await Setup.start()
    let clients = try (0..<clientCount).map { _ in
        try HalyardClient(
            configuration: HalyardClientConfiguration(baseURL: setup.baseURL, environment: "production", streamFallbackPollInterval: .seconds(3600)),
            httpClient: httpClient, logger: logger)
    }
    try await measure("stream mode, \(clientCount) clients", setup: setup, clients: clients)
    setup.task.cancel()
    _ = await setup.task.result
}

// Webhook mode: each client is a subscriber behind its own route on one of the receiver servers.
try await withThrowingTaskGroup(of: Void.self) { group in
    let setup = try await Setup.start()
    var clients: [HalyardClient] = []
    var secrets: [String] = []
    for _ in 0..<clientCount {
        let secret = WebhookSigner.generateSecret()
        secrets.append(secret)
        clients.append(
            try HalyardClient(
                configuration: HalyardClientConfiguration(baseURL: setup.baseURL, environment: "production", updateMode: .webhook, webhookSecrets: [secret]),
                httpClient: httpClient, logger: logger))
    }
    var subscriptions: [StaticSubscription] = []
    for server in 0..<receiverServers {
        let router = Router()
        for index in stride(from: server, to: clientCount, by: receiverServers) {
            router.addHalyardRefreshRoute(RouterPath("/hooks/\(index)"), client: clients[index])
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        group.addTask { try await app.runService() }
        var port = 0
        for await bound in stream {
            port = bound
            break
        }
        for index in stride(from: server, to: clientCount, by: receiverServers) {
            subscriptions.append(StaticSubscription(url: "http://127.0.0.1:\(port)/hooks/\(index)", environments: ["production"], secret: secrets[index]))
        }
    }
    try setup.service.database.replaceStaticSubscriptions(subscriptions)
    try await measure("webhook mode, \(clientCount) subscribers", setup: setup, clients: clients)
    setup.task.cancel()
    _ = await setup.task.result
    group.cancelAll()
}
try await httpClient.shutdown()
