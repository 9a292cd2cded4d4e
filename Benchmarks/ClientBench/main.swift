// Measures the client SDK's evaluation: how long `client.bool(…)` takes on a typical flag, alone and from 2 threads
// while another thread swaps the flag set every millisecond (issue 12: under 100 ns, no lock contention). The client's
// flag set is built in memory; no server is involved (client-propagation-bench measures the updates end to end).
//
//     swift run -c release --package-path Benchmarks client-bench

import Foundation
@_spi(Benchmarks) import HalyardClient
import HalyardRules
import Synchronization

/// Keeps a value alive so the optimiser cannot drop the work that produced it.
@inline(never)
func blackHole(_ value: Int) {
    if value == Int.min { print("unreachable") }
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

func format(_ value: Double) -> String { String((value * 10).rounded() / 10) }

// MARK: - Flags

/// The typical flag of rules-bench (a): three groups of two filter rules.
let typicalFlag = #"""
    {"name": "Checkout v2", "active": true, "rules": [
      [ {"type": "filter", "attribute": "country", "operator": "in", "comparator": ["DE", "FR", "NL", "AT"]},
        {"type": "filter", "attribute": "plan", "operator": "==", "comparator": "Enterprise"} ],
      [ {"type": "filter", "attribute": "age", "operator": ">=", "comparator": 18},
        {"type": "filter", "attribute": "beta", "operator": "==", "comparator": true} ],
      [ {"type": "filter", "attribute": "appVersion", "operator": ">=", "comparator": "2.3"},
        {"type": "filter", "attribute": "platform", "operator": "!=", "comparator": "android"} ] ]}
    """#

/// A flags body as the flags route serves it: the example flags of `flags/production`, the typical flag as
/// `checkout-v2`, and 200 synthetic flags, so that the lookup works on a realistic table.
func flagsBody(commit: String, examples: String) -> [UInt8] {
    var files: [(String, [UInt8])] = [("checkout-v2", Array(typicalFlag.utf8))]
    if let names = try? FileManager.default.contentsOfDirectory(atPath: examples) {
        for name in names.sorted() where name.hasSuffix(".json") {
            if let data = FileManager.default.contents(atPath: examples + "/" + name) {
                files.append((String(name.dropLast(5)), Array(data)))
            }
        }
    }
    for index in 0..<200 {
        let rule =
            #"{"active": \#(index % 3 != 0), "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "p\#(index)"}]]}"#
        files.append(("synthetic-\(index)", Array(rule.utf8)))
    }
    var json = JSONWriter(capacity: 1 << 16)
    json.objectStart()
    json.key("environment")
    json.string("production")
    json.key("commit")
    json.string(commit)
    json.key("digest")
    json.string("digest-\(commit)")
    json.key("flags")
    json.objectStart()
    for (id, bytes) in files {
        let result = FlagDecoder.decode(bytes, id: id, file: "flags/production/\(id).json")
        guard let flag = result.flag else { fatalError("invalid benchmark flag \(id): \(result.diagnostics)") }
        json.key(id)
        json.json(flag.normalizedJSON)
    }
    json.objectEnd()
    json.objectEnd()
    return json.bytes
}

/// Sixteen users of eight attributes, as rules-bench uses; each thread gets its own copies, as each request would.
func users() -> [EvaluationContext] {
    let countries: [JSONValue] = ["de", "us", "fr", "gb", "nl", "jp", "at", "br"]
    let plans: [JSONValue] = ["enterprise", "free", "pro", "Enterprise"]
    let platforms: [JSONValue] = ["ios", "android", "web", "android"]
    let versions: [JSONValue] = ["2.1", "2.3", "1.9", "2.10"]
    return (0..<16).map { index in
        EvaluationContext([
            "userId": .string("user-\(index * 7919)"), "email": .string("user\(index)@example.com"),
            "country": countries[index % countries.count], "plan": plans[index % plans.count],
            "age": .number(JSONNumber(Double(14 + index * 3))), "beta": .bool(index % 5 == 0),
            "platform": platforms[index % platforms.count], "appVersion": versions[index / 4],
        ])
    }
}

// MARK: - Evaluation

/// The CPU time the calling thread has used, in nanoseconds.
func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// CPU ns per call of the slower thread of the last `onThreads` run: with the wall-clock figure it tells time spent
/// waiting (for a lock, or for a core the machine gave to another thread) from time spent working.
let lastCPUPerCall = Mutex<Double>(0)

/// Runs `body(iterations)` on `threads` threads started together; returns each thread's ns per call.
func onThreads(_ threads: Int, iterations: Int, _ body: @escaping @Sendable (Int) -> Int) -> [Double] {
    let results = Mutex<[Double]>([])
    let cpu = Mutex<[Double]>([])
    let start = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    for _ in 0..<threads {
        done.enter()
        let thread = Thread {
            start.wait()
            let clock = ContinuousClock()
            var selected = 0
            let cpuStart = threadCPUNanoseconds()
            let elapsed = clock.measure { selected = body(iterations) }
            let cpuUsed = threadCPUNanoseconds() - cpuStart
            blackHole(selected)
            results.withLock { $0.append(nanoseconds(elapsed) / Double(iterations)) }
            cpu.withLock { $0.append(cpuUsed / Double(iterations)) }
            done.leave()
        }
        thread.start()
    }
    for _ in 0..<threads { start.signal() }
    done.wait()
    lastCPUPerCall.withLock { $0 = cpu.withLock { $0.max() ?? 0 } }
    return results.withLock { $0 }
}

/// Swaps the client's flag set between two sets every millisecond until stopped; counts the swaps.
final class Swapper: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let swaps = Atomic<Int>(0)

    func start(client: HalyardClient, sets: [FlagSet]) -> Thread {
        let thread = Thread { [self] in
            var index = 0
            while !stopped.load(ordering: .relaxed) {
                usleep(1000)
                index += 1
                client.install(sets[index % sets.count])
                swaps.add(1, ordering: .relaxed)
            }
        }
        thread.start()
        return thread
    }

    func stop() -> Int {
        stopped.store(true, ordering: .relaxed)
        return swaps.load(ordering: .relaxed)
    }
}

func evaluationBench(iterations: Int, rounds: Int) throws {
    let examples = ProcessInfo.processInfo.environment["HALYARD_EXAMPLE_FLAGS"] ?? "flags/production"
    let setA = try FlagSet.decoding(flagsBody(commit: "a", examples: examples), source: "bench")
    let setB = try FlagSet.decoding(flagsBody(commit: "b", examples: examples), source: "bench")
    let client = try HalyardClient(configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production"))
    client.install(setA)
    let flag = setA.flags["checkout-v2"]!
    print("HalyardClient evaluation benchmark (\(setA.flags.count) flags; typical flag: 3 groups × 2 filters, 8-attribute user)")

    let resolve: @Sendable (Int) -> Int = { iterations in
        let contexts = users()
        var selected = 0
        for index in 0..<iterations where flag.resolve(contexts[index & 15]).matchedGroup != nil { selected += 1 }
        return selected
    }
    let bool: @Sendable (Int) -> Int = { iterations in
        let contexts = users()
        var selected = 0
        for index in 0..<iterations where client.bool("checkout-v2", default: false, context: contexts[index & 15]) { selected += 1 }
        return selected
    }

    var figures: [String: [Double]] = [:]
    var swaps = 0
    for round in 0...rounds {
        let measured: [(String, Double)] = [
            ("flag.resolve, 1 thread", onThreads(1, iterations: iterations, resolve)[0]),
            ("client.bool, 1 thread", onThreads(1, iterations: iterations, bool)[0]),
            ("flag.resolve, 2 threads on one flag", onThreads(2, iterations: iterations, resolve).max()!),
            ("client.bool, 2 threads", onThreads(2, iterations: iterations, bool).max()!),
            {
                let swapper = Swapper()
                let thread = swapper.start(client: client, sets: [setA, setB])
                let figure = onThreads(2, iterations: iterations, bool).max()!
                swaps += swapper.stop()
                while !thread.isFinished { usleep(100) }
                return ("client.bool, 2 threads, flag set swapped every ms", figure)
            }(),
            ("client.bool, 2 threads, flag set swapped every ms, CPU time", lastCPUPerCall.withLock { $0 }),
        ]
        if round == 0 { continue }  // warm-up
        for (name, value) in measured { figures[name, default: []].append(value) }
    }
    for name in [
        "flag.resolve, 1 thread", "client.bool, 1 thread", "flag.resolve, 2 threads on one flag", "client.bool, 2 threads",
        "client.bool, 2 threads, flag set swapped every ms", "client.bool, 2 threads, flag set swapped every ms, CPU time",
    ] {
        let values = figures[name]!.sorted()
        let target = name.hasPrefix("client.bool") ? "  (target < 100 ns)" : ""
        print(
            "\(name): \(format(values[0])) ns/call best, \(format(values[values.count / 2])) median\(target) (\(rounds) × \(iterations); 2 threads: the slower thread)"
        )
    }
    print("(\(swaps) flag-set swaps applied during the swapped rounds)")
}

// MARK: - Main

let iterations = Int(ProcessInfo.processInfo.environment["BENCH_ITERATIONS"] ?? "") ?? 2_000_000
let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 5
try evaluationBench(iterations: iterations, rounds: rounds)
