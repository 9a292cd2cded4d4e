import Foundation
import HalyardNotify
import HalyardService
import HalyardSync
import Hummingbird
import Logging
import Synchronization

// Several replicas on PostgreSQL (DESIGN §10), measured end to end like propagation-bench: whole services as
// `halyard serve` assembles them (HalyardService: remote mode with a libgit2 fetch, the state store, the deliverer,
// the HTTP server on a system-chosen port), a bare repository on disk, real HTTP receivers on loopback.
//
// (a) trigger → webhook received at 100 subscribers, one replica on SQLite and one on PostgreSQL, round by round in
//     the same run (same commits, same receivers), and the ratio of their p99s (target ≤ 1.5×);
// (b) 1,000 subscribers delivered by three replicas sharing one PostgreSQL database vs by one replica on a database of
//     its own (target: three no slower), with the calls each subscriber received per commit (target: one) and how many
//     of the three replicas serve the commit once its calls are delivered. The trigger reaches one replica, as a push
//     hook or `POST /v1/refresh` through a load balancer would.
//
// PostgreSQL: HALYARD_BENCH_POSTGRES_URL (`postgres://user@127.0.0.1:PORT/postgres`, trust authentication; Scripts/bench
// starts a throw-away cluster with Scripts/lib/postgres-cluster); each setting gets a database of its own, dropped at
// the end. BENCH_ROUNDS (default 8) sets the rounds of each figure.

let environment = ProcessInfo.processInfo.environment
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 8
let latencySubscribers = 100
let fanOutSubscribers = 1000
let replicaCount = 3
let receiverServers = 20
guard let postgresServer = environment["HALYARD_BENCH_POSTGRES_URL"], !postgresServer.isEmpty else {
    print("replica-bench needs a PostgreSQL server: HALYARD_BENCH_POSTGRES_URL=postgres://user@127.0.0.1:PORT/postgres")
    print("(Scripts/bench starts one with Scripts/lib/postgres-cluster)")
    exit(2)
}

/// The webhook calls received, per request path (one path per subscriber): when the first arrived, and every
/// `webhook-id` seen.
final class Arrivals: Sendable {
    private struct Calls {
        var first: ContinuousClock.Instant
        var ids: [String]
    }

    private let state = Mutex<[String: Calls]>([:])

    func record(path: String, webhookID: String) {
        let now = ContinuousClock.now
        state.withLock { state in
            state[path, default: Calls(first: now, ids: [])].ids.append(webhookID)
        }
    }

    func reset() { state.withLock { $0 = [:] } }
    /// How many subscribers got at least one call.
    var subscribers: Int { state.withLock { $0.count } }
    /// The first arrival of each subscriber.
    var firstArrivals: [ContinuousClock.Instant] { state.withLock { $0.values.map(\.first) } }
    /// All calls, repeats included.
    var calls: Int { state.withLock { $0.values.reduce(0) { $0 + $1.ids.count } } }
    /// Distinct `webhook-id`s over all subscribers: a repeat with the same id is a retry the receiver dedupes.
    var distinctMessages: Int { state.withLock { $0.values.reduce(0) { $0 + Set($1.ids).count } } }
}

/// A command-line tool run to its end, its output discarded; a failure stops the bench with its name.
func run(_ executable: String, _ arguments: [String]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        fatalError("\(executable) \(arguments.joined(separator: " ")): \(error)")
    }
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        fatalError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
}

/// A database of its own on the bench's PostgreSQL server; its URL for `state.url`.
func createDatabase(_ name: String) -> String {
    run("/usr/bin/psql", ["-v", "ON_ERROR_STOP=1", "-q", "-d", postgresServer, "-c", "CREATE DATABASE \(name)"])
    let base = postgresServer[..<(postgresServer.lastIndex(of: "/") ?? postgresServer.endIndex)]
    return "\(base)/\(name)?sslmode=disable"
}

func dropDatabase(_ name: String) {
    run("/usr/bin/psql", ["-q", "-d", postgresServer, "-c", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
}

/// A work tree whose commits are pushed to a bare repository, the remote every service of the bench mirrors.
struct FlagRepository {
    let root: String
    var work: String { root + "/work" }
    var bare: String { root + "/flags.git" }

    init() {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-replica-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: root + "/work/flags/production", withIntermediateDirectories: true)
        write(active: true)
        git(["init", "-q", "-b", "main"])
        git(["add", "-A"])
        git(["commit", "-q", "-m", "first"])
        run("/usr/bin/git", ["clone", "-q", "--bare", work, bare])
        git(["remote", "add", "origin", bare])
    }

    /// Commits a real change to production/checkout and pushes it; returns the commit's sha.
    func commit(round: Int) -> String {
        write(active: round % 2 == 0)
        git(["commit", "-q", "-am", "round \(round)"])
        git(["push", "-q", "origin", "main"])
        return git(["rev-parse", "HEAD"])
    }

    private func write(active: Bool) {
        let flag = #"{"active": \#(active), "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}]]}"#
        try! (flag + "\n").write(toFile: work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
    }

    @discardableResult
    private func git(_ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", work, "-c", "user.name=Bench", "-c", "user.email=bench@example.com"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try! process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Replicas of one setting (one state store) running in this process, with their subscribers.
struct Replicas {
    let name: String
    let services: [HalyardService]
    let tasks: [Task<Void, any Error>]

    /// Starts `count` services on the state at `stateURL` (SQLite in each data directory when `nil`), waits until each
    /// serves the repository, and subscribes `subscribers` receivers (paths `/hook/<name>-<i>`) to production.
    static func start(
        name: String,
        count: Int,
        stateURL: String?,
        repository: FlagRepository,
        subscribers: Int,
        receiverPorts: [Int],
        logger: Logger
    ) async throws -> Replicas {
        var services: [HalyardService] = []
        var tasks: [Task<Void, any Error>] = []
        for index in 0..<count {
            var configuration = ServiceConfiguration(
                repository: WatcherConfiguration(source: .remote(url: repository.bare), pollInterval: .seconds(3600)),
                http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: 0),
                notify: ServiceConfiguration.Notify(allowPrivateNetworks: true),
                dataDirectory: repository.root + "/\(name)-\(index)",
                logLevel: .critical
            )
            configuration.state = ServiceConfiguration.State(url: stateURL)
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            let service = try HalyardService(configuration: configuration, logger: logger)
            services.append(service)
            tasks.append(Task { try await service.run() })
        }
        for service in services {
            let deadline = ContinuousClock.now + .seconds(60)
            while service.store.current == nil {
                guard ContinuousClock.now < deadline else { fatalError("\(name): a replica did not apply the first commit") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        for index in 0..<subscribers {
            _ = try await services[0].stateStore.createSubscription(
                url: "http://127.0.0.1:\(receiverPorts[index % receiverPorts.count])/hook/\(name)-\(index)",
                environments: ["production"],
                policy: SubscriptionPolicy(allowedHosts: nil)
            )
        }
        return Replicas(name: name, services: services, tasks: tasks)
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
    }
}

/// What one round of one setting measured.
struct Round {
    /// Trigger → first call of each subscriber, in ms.
    var latencies: [Double]
    /// Trigger → the last subscriber's first call, in ms.
    var allDelivered: Double
    /// Calls per subscriber, repeats with the same `webhook-id` included, and distinct `webhook-id`s per subscriber.
    var callsPerSubscriber: Double
    var messagesPerSubscriber: Double
    /// Replicas serving the commit once its calls were delivered and the outbox was empty.
    var serving: Int
}

let arrivals = Arrivals()

/// Triggers a refresh through the first replica of `replicas` (whose remote already has `commit`), and waits until
/// every subscriber got a call and the shared outbox is empty.
func measure(_ replicas: Replicas, commit: String, subscribers: Int) async throws -> Round {
    arrivals.reset()
    let start = ContinuousClock.now
    // What `POST /v1/refresh` does: with PostgreSQL every replica is told to fetch (NOTIFY), with SQLite this one.
    replicas.services[0].watcher.requestRefreshEverywhere()
    let deadline = start + .seconds(60)
    while arrivals.subscribers < subscribers && ContinuousClock.now < deadline {
        try await Task.sleep(for: .microseconds(200))
    }
    let times = arrivals.firstArrivals.map { milliseconds($0 - start) }
    if times.count < subscribers { print("  \(replicas.name): only \(times.count) of \(subscribers) subscribers got a call") }
    // Every message leaves the outbox only once answered: then every call of this commit has arrived.
    let drained = ContinuousClock.now + .seconds(10)
    while (try? await replicas.services[0].stateStore.pendingMessageCount()) != 0 && ContinuousClock.now < drained {
        try await Task.sleep(for: .milliseconds(2))
    }
    let serving = replicas.services.filter { $0.store.current?.commit == commit }.count
    return Round(
        latencies: times,
        allDelivered: times.max() ?? .infinity,
        callsPerSubscriber: Double(arrivals.calls) / Double(subscribers),
        messagesPerSubscriber: Double(arrivals.distinctMessages) / Double(subscribers),
        serving: serving
    )
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .infinity }
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

/// `12.3 ms`, right-aligned.
func ms(_ value: Double) -> String { String(format: "%7.1f ms", value) }

/// `1.07×`.
func ratio(_ value: Double) -> String { String(format: "%.2f×", value) }

/// `1.00` or `1.00–3.00`.
func range(_ values: [Double]) -> String {
    let low = String(format: "%.2f", values.min() ?? 0)
    let high = String(format: "%.2f", values.max() ?? 0)
    return low == high ? low : "\(low)–\(high)"
}

var logger = Logger(label: "bench")
logger.logLevel = .critical

let router = Router()
router.post("/hook/{id}") { request, context -> HTTPResponse.Status in
    let webhookID = request.headers.first { $0.name.canonicalName == "webhook-id" }?.value ?? ""
    arrivals.record(path: request.uri.path, webhookID: webhookID)
    _ = try await request.body.collect(upTo: 1 << 20)
    return .noContent
}

try await withThrowingTaskGroup(of: Void.self) { group in
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
    let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8)
    let databases = ["bench_latency_\(suffix)", "bench_one_\(suffix)", "bench_three_\(suffix)"]

    // (a) SQLite vs PostgreSQL, one replica each, 100 subscribers; the two alternate which goes first in each round.
    do {
        let repository = FlagRepository()
        let sqlite = try await Replicas.start(
            name: "sqlite", count: 1, stateURL: nil, repository: repository,
            subscribers: latencySubscribers, receiverPorts: ports, logger: logger
        )
        let postgres = try await Replicas.start(
            name: "postgres", count: 1, stateURL: createDatabase(databases[0]), repository: repository,
            subscribers: latencySubscribers, receiverPorts: ports, logger: logger
        )
        var sqliteRounds: [Round] = []
        var postgresRounds: [Round] = []
        for round in 1...rounds {
            let commit = repository.commit(round: round)
            for setting in round % 2 == 0 ? [sqlite, postgres] : [postgres, sqlite] {
                let measured = try await measure(setting, commit: commit, subscribers: latencySubscribers)
                if setting.name == "sqlite" { sqliteRounds.append(measured) } else { postgresRounds.append(measured) }
            }
        }
        await sqlite.stop()
        await postgres.stop()
        try? FileManager.default.removeItem(atPath: repository.root)
        let sqliteLatencies = sqliteRounds.flatMap(\.latencies)
        let postgresLatencies = postgresRounds.flatMap(\.latencies)
        for (name, latencies) in [("SQLite    ", sqliteLatencies), ("PostgreSQL", postgresLatencies)] {
            print(
                "(a) \(name), 1 replica, \(latencySubscribers) subscribers: trigger to webhook p50 \(ms(median(latencies)))  "
                    + "p99 \(ms(percentile(latencies, 0.99))) (\(rounds) rounds)"
            )
        }
        let latencyRatio = percentile(postgresLatencies, 0.99) / percentile(sqliteLatencies, 0.99)
        print("(a) PostgreSQL p99 / SQLite p99, 100 subscribers: \(ratio(latencyRatio))   target ≤ 1.5×")
    }

    // (b) 1,000 subscribers: one replica vs three on one database; the two alternate which goes first in each round.
    do {
        let repository = FlagRepository()
        let one = try await Replicas.start(
            name: "one", count: 1, stateURL: createDatabase(databases[1]), repository: repository,
            subscribers: fanOutSubscribers, receiverPorts: ports, logger: logger
        )
        let three = try await Replicas.start(
            name: "three", count: replicaCount, stateURL: createDatabase(databases[2]), repository: repository,
            subscribers: fanOutSubscribers, receiverPorts: ports, logger: logger
        )
        var oneRounds: [Round] = []
        var threeRounds: [Round] = []
        for round in 1...rounds {
            let commit = repository.commit(round: round)
            for setting in round % 2 == 0 ? [one, three] : [three, one] {
                let measured = try await measure(setting, commit: commit, subscribers: fanOutSubscribers)
                if setting.name == "one" { oneRounds.append(measured) } else { threeRounds.append(measured) }
            }
        }
        await one.stop()
        await three.stop()
        try? FileManager.default.removeItem(atPath: repository.root)
        for (name, measured) in [("one replica   ", oneRounds), ("three replicas", threeRounds)] {
            let all = measured.map(\.allDelivered)
            print(
                "(b) \(name), \(fanOutSubscribers) subscribers: all delivered within median \(ms(median(all))) "
                    + "(worst \(ms(all.max() ?? 0))), p99 \(ms(percentile(measured.flatMap(\.latencies), 0.99)))"
            )
        }
        let fanOutRatio = median(threeRounds.map(\.allDelivered)) / median(oneRounds.map(\.allDelivered))
        print("(b) three replicas / one, all 1,000 delivered (median): \(ratio(fanOutRatio))   target ≤ 1.00× (three no slower)")
        for (name, measured) in [("one replica   ", oneRounds), ("three replicas", threeRounds)] {
            let calls = measured.map(\.callsPerSubscriber)
            let messages = measured.map(\.messagesPerSubscriber)
            print(
                "(b) \(name): calls per subscriber per commit \(range(calls)), distinct webhook-ids per subscriber "
                    + "\(range(messages))   target 1"
            )
        }
        let serving = threeRounds.map(\.serving)
        print(
            "(b) three replicas: serving the commit once its calls were delivered: \(serving.min() ?? 0)–\(serving.max() ?? 0) of \(replicaCount) "
                + "(the trigger reached one; target \(replicaCount): the others follow through shared triggers)"
        )
    }
    for database in databases { dropDatabase(database) }
    group.cancelAll()
}
