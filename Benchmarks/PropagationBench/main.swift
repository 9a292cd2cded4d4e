import BenchSupport
import Foundation
import HalyardNotify
import HalyardService
import HalyardSync
import Hummingbird
import Synchronization

// Measures the time from a refresh trigger to each subscriber receiving its webhook, end to end through the real
// service as `halyard serve` assembles it (HalyardService: remote mode with a libgit2 fetch, the SQLite outbox, the
// deliverer with AsyncHTTPClient, the HTTP server on a system-chosen port) and real HTTP receivers on loopback, for
// 1, 100 and 1,000 subscribers. Issue 16: p99 under 40 ms at 100 subscribers, all of 1,000 called within 300 ms.
//
// BENCH_ROUNDS (default 5) and BENCH_SUBSCRIBERS (default 1,100,1000) change the run.

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

let logger = quietLogger("propagation-bench")
let arrivals = Arrivals()
let router = Router()
router.post("/hook/{id}") { request, context -> HTTPResponse.Status in
    arrivals.record(request.uri.path)
    _ = try await request.body.collect(upTo: 1 << 20)
    return .noContent
}

try await withThrowingTaskGroup(of: Void.self) { group in
    var ports: [Int] = []
    for _ in 0..<receiverServers {
        ports.append(await startReceiver(router: router, in: &group, logger: logger))
    }

    for subscriberCount in counts {
        let bench = try BenchService(label: "prop", logger: logger)
        for index in 0..<subscriberCount {
            _ = try bench.service.database.createSubscription(
                url: "http://127.0.0.1:\(ports[index % ports.count])/hook/\(index)",
                environments: ["production"],
                policy: SubscriptionPolicy(allowedHosts: nil)
            )
        }
        let store = bench.service.store
        let running = try await bench.start()

        var latencies: [Double] = []
        var lastArrivals: [Double] = []
        var applied: [Double] = []
        for round in 1...rounds {
            arrivals.reset()
            let expected = try bench.commitAndPush(active: round % 2 == 0, message: "round \(round)")
            let start = ContinuousClock.now
            bench.service.watcher.requestRefresh()
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
        lastArrivals.sort()
        let label = String(format: "%5d subscribers", subscriberCount)
        print(String(format: "%@: trigger to applied (fetch, validate, persist, swap), median  %7.1f ms", label, median(applied)))
        print(String(format: "%@: trigger to webhook received, p50                         %7.1f ms", label, percentile(latencies, 0.5)))
        let p99Target = subscriberCount == 100 ? "  (target < 40 ms)" : ""
        print(
            String(format: "%@: trigger to webhook received, p99                         %7.1f ms%@", label, percentile(latencies, 0.99), p99Target)
        )
        let allTarget = subscriberCount == 1000 ? "  (target < 300 ms)" : ""
        print(
            String(
                format: "%@: all subscribers called, median of %d rounds (worst %.1f)   %7.1f ms%@",
                label,
                rounds,
                lastArrivals.last ?? .infinity,
                median(lastArrivals),
                allTarget
            )
        )
        await bench.stop(running)
    }
    group.cancelAll()
}
