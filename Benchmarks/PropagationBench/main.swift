import Foundation
import HalyardNotify
import HalyardService
import HalyardSync
import Hummingbird
import Logging
import Synchronization

// Measures the time from a refresh trigger to each subscriber receiving its webhook, end to end through the real
// service as `halyard serve` assembles it (HalyardService: remote mode with a libgit2 fetch, the SQLite outbox, the
// deliverer with AsyncHTTPClient, the HTTP server on a system-chosen port) and real HTTP receivers on loopback, for
// 1, 100 and 1,000 subscribers.

let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 5
let counts = (ProcessInfo.processInfo.environment["BENCH_SUBSCRIBERS"] ?? "1,100,1000").split(separator: ",").compactMap { Int($0) }
let receiverServers = 20

/// Arrival times of webhook calls, keyed by the request path (one path per subscriber).
final class Arrivals: Sendable {
    private let state = Mutex<[String: ContinuousClock.Instant]>([:])
    func record(_ path: String) { state.withLock { $0[path] = .now } }
    func reset() { state.withLock { $0 = [:] } }
    var count: Int { state.withLock { $0.count } }
    var all: [String: ContinuousClock.Instant] { state.withLock { $0 } }
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
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

var logger = Logger(label: "bench")
logger.logLevel = .critical

let arrivals = Arrivals()
let router = Router()
router.post("/hook/{id}") { request, context -> HTTPResponse.Status in
    arrivals.record(request.uri.path)
    _ = try await request.body.collect(upTo: 1 << 20)
    return .noContent
}

try await withThrowingTaskGroup(of: Void.self) { group in
    // Receivers.
    var ports: [Int] = []
    for _ in 0..<receiverServers {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        group.addTask { try await app.runService() }
        for await port in stream {
            ports.append(port)
            break
        }
    }

    for subscriberCount in counts {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-prop-\(UUID().uuidString)").path
        let work = root + "/work"
        let bare = root + "/flags.git"
        try FileManager.default.createDirectory(atPath: work + "/flags/production", withIntermediateDirectories: true)
        try flag(active: true).write(toFile: work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
        git(["init", "-q", "-b", "main"], in: work)
        git(["add", "-A"], in: work)
        git(["commit", "-q", "-m", "first"], in: work)
        git(["clone", "-q", "--bare", work, bare], in: root)
        git(["remote", "add", "origin", bare], in: work)

        // The whole service, as `halyard serve` builds it; the receivers listen on loopback.
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
        for index in 0..<subscriberCount {
            _ = try service.database.createSubscription(
                url: "http://127.0.0.1:\(ports[index % ports.count])/hook/\(index)",
                environments: ["production"],
                policy: SubscriptionPolicy(allowedHosts: nil)
            )
        }
        let store = service.store
        let watcher = service.watcher
        let services = Task { try await service.run() }
        while store.current == nil { try await Task.sleep(for: .milliseconds(10)) }

        var latencies: [Double] = []
        var lastArrivals: [Double] = []
        var applied: [Double] = []
        for round in 1...rounds {
            arrivals.reset()
            try flag(active: round % 2 == 0).write(toFile: work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
            git(["commit", "-q", "-am", "round \(round)"], in: work)
            git(["push", "-q", "origin", "main"], in: work)
            let expected = git(["rev-parse", "HEAD"], in: work)
            let start = ContinuousClock.now
            watcher.requestRefresh()
            while store.current?.commit != expected && ContinuousClock.now < start + .seconds(30) {
                try await Task.sleep(for: .microseconds(100))
            }
            applied.append(milliseconds(ContinuousClock.now - start))
            let deadline = start + .seconds(30)
            while arrivals.count < subscriberCount && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            let times = arrivals.all.values.map { milliseconds($0 - start) }
            latencies += times
            lastArrivals.append(times.max() ?? .infinity)
            if times.count < subscriberCount { print("  round \(round): only \(times.count) of \(subscriberCount) arrived") }
        }
        latencies.sort()
        applied.sort()
        print(
            String(
                format: "%5d subscribers: trigger to applied (fetch, validate, persist, swap): median %6.1f ms",
                subscriberCount,
                applied[applied.count / 2]
            )
        )
        print(
            String(
                format: "%5d subscribers: p50 %7.1f ms  p99 %7.1f ms  all delivered within %7.1f ms (worst of %d rounds)",
                subscriberCount,
                percentile(latencies, 0.5),
                percentile(latencies, 0.99),
                lastArrivals.max() ?? 0,
                rounds
            )
        )
        services.cancel()
        _ = try? await services.value
        try? FileManager.default.removeItem(atPath: root)
    }
    group.cancelAll()
}
