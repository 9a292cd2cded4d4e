import AsyncHTTPClient
import BenchSupport
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

let logger = quietLogger("client-propagation-bench")

/// One HTTP client for all the SDK clients, with room for 100 event streams and their fetches to one host.
let httpClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clientCount * 3)
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// Starts `clients`, records every change they see, and measures `rounds` commits; prints the figures.
func measure(_ name: String, bench: BenchService, clients: [HalyardClient]) async throws {
    let arrivals = Arrivals()
    var tasks: [Task<Void, any Error>] = []
    for (index, client) in clients.enumerated() {
        let changes = client.changes
        tasks.append(Task { for await change in changes { arrivals.record(change.commit, client: index) } })
        tasks.append(Task { try await client.run() })
    }
    defer { for task in tasks { task.cancel() } }
    let first = bench.service.store.current!.commit
    let ready = ContinuousClock.now + .seconds(60)
    while clients.contains(where: { $0.flagSet?.commit != first }) && ContinuousClock.now < ready {
        try await Task.sleep(for: .milliseconds(10))
    }
    try await Task.sleep(for: .milliseconds(500))  // the event streams connect after the first fetch

    var latencies: [Double] = []
    var slowest: [Double] = []
    for round in 1...rounds {
        let expected = try bench.commitAndPush(active: round % 2 == 0, message: "round \(round)")
        let start = ContinuousClock.now
        bench.service.watcher.requestRefresh()
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
    print(String(format: "%@: trigger to client updated, p50                      %7.1f ms", name, percentile(latencies, 0.5)))
    print(String(format: "%@: trigger to client updated, p99                      %7.1f ms  (target < 50 ms)", name, percentile(latencies, 0.99)))
    print(String(format: "%@: trigger to client updated, max of %d × %d          %7.1f ms", name, clients.count, rounds, latencies.last ?? .infinity))
    print(String(format: "%@: slowest client per round, median                    %7.1f ms", name, median(slowest)))
}

print("HalyardClient propagation benchmark (loopback, \(clientCount) clients)")

// Stream mode.
do {
    let bench = try BenchService(label: "client-prop", logger: logger)
    let running = try await bench.start()
    let baseURL = bench.service.publicBaseURL!
    let clients = try (0..<clientCount).map { _ in
        try HalyardClient(
            configuration: HalyardClientConfiguration(baseURL: baseURL, environment: "production", streamFallbackPollInterval: .seconds(3600)),
            httpClient: httpClient,
            logger: logger
        )
    }
    try await measure("stream mode,  \(clientCount) clients    ", bench: bench, clients: clients)
    await bench.stop(running)
}

// Webhook mode: each client is a subscriber behind its own route on one of the receiver servers.
try await withThrowingTaskGroup(of: Void.self) { group in
    let bench = try BenchService(label: "client-prop", logger: logger)
    let running = try await bench.start()
    let baseURL = bench.service.publicBaseURL!
    var clients: [HalyardClient] = []
    var secrets: [String] = []
    for _ in 0..<clientCount {
        let secret = WebhookSigner.generateSecret()
        secrets.append(secret)
        clients.append(
            try HalyardClient(
                configuration: HalyardClientConfiguration(
                    baseURL: baseURL,
                    environment: "production",
                    updateMode: .webhook,
                    webhookSecrets: [secret]
                ),
                httpClient: httpClient,
                logger: logger
            )
        )
    }
    var subscriptions: [StaticSubscription] = []
    for server in 0..<receiverServers {
        let router = Router()
        for index in stride(from: server, to: clientCount, by: receiverServers) {
            router.addHalyardRefreshRoute(RouterPath("/hooks/\(index)"), client: clients[index])
        }
        let port = await startReceiver(router: router, in: &group, logger: logger)
        for index in stride(from: server, to: clientCount, by: receiverServers) {
            subscriptions.append(
                StaticSubscription(url: "http://127.0.0.1:\(port)/hooks/\(index)", environments: ["production"], secret: secrets[index])
            )
        }
    }
    try bench.service.database.replaceStaticSubscriptions(subscriptions)
    try await measure("webhook mode, \(clientCount) subscribers", bench: bench, clients: clients)
    await bench.stop(running)
    group.cancelAll()
}
try await httpClient.shutdown()
