import Foundation
import HalyardService
import HalyardSync
import Hummingbird
import Logging

// What the propagation benchmarks share: a flag repository with a bare origin, the service following it as
// `halyard serve` assembles it, loopback receivers, and the figures' arithmetic.

/// Runs git in `directory` with a fixed author, and returns its trimmed standard output.
@discardableResult
public func git(_ arguments: [String], in directory: String) -> String {
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

/// The one flag of the benchmark repository, with one rule, active or not.
public func benchFlag(active: Bool) -> String {
    #"{"active": \#(active), "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}]]}"# + "\n"
}

/// A duration in milliseconds.
public func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// A duration in seconds.
public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The median time in seconds of `runs` runs of `body`.
public func timedMedian(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        samples.append(seconds(ContinuousClock.now - start))
    }
    return median(samples)
}

/// ``timedMedian(_:_:)`` of a body that makes a value (a snapshot): each run's value is freed before the next run's
/// clock starts, so the figure is the making alone; the last one is returned.
public func timedMedian<Value>(keeping runs: Int, _ body: () throws -> Value) rethrows -> (seconds: Double, last: Value?) {
    var samples: [Double] = []
    var last: Value?
    for _ in 0..<runs {
        last = nil
        let start = ContinuousClock.now
        let value = try body()
        samples.append(seconds(ContinuousClock.now - start))
        last = value
    }
    return (median(samples), last)
}

/// The `p` quantile (0…1) of sorted values, nearest rank.
public func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

/// The median of values.
public func median(_ values: [Double]) -> Double {
    values.sorted()[values.count / 2]
}

/// A logger that stays quiet during a measurement.
public func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// A Hummingbird server on a system-chosen loopback port, started in `group`; returns the port once bound. It runs in
/// the caller's isolation, so a bench's top-level router and task group are not sent anywhere.
public func startReceiver(
    router: Router<BasicRequestContext>,
    in group: inout ThrowingTaskGroup<Void, any Error>,
    logger: Logger,
    isolation: isolated (any Actor)? = #isolation
) async -> Int {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
        logger: logger
    )
    group.addTask { try await app.runService(gracefulShutdownSignals: []) }
    for await port in stream {
        return port
    }
    return 0
}

/// A repository with one flag in `production`, its bare origin, and the service following the origin in remote mode
/// (a libgit2 fetch, the SQLite outbox, the deliverer allowed to reach loopback, the HTTP server on a free port).
public struct BenchService: Sendable {
    /// The working copy commits are made in.
    public let work: String
    /// The directory holding everything, removed by ``stop()``.
    public let root: String
    /// The service, built but not running until ``start()``.
    public let service: HalyardService

    /// Creates the repository and builds the service; add subscriptions to `service.database` before ``start()``.
    public init(label: String, logger: Logger) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-\(label)-\(UUID().uuidString)").path
        let work = root + "/work"
        let bare = root + "/flags.git"
        try FileManager.default.createDirectory(atPath: work + "/flags/production", withIntermediateDirectories: true)
        try benchFlag(active: true).write(toFile: work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
        git(["init", "-q", "-b", "main"], in: work)
        git(["add", "-A"], in: work)
        git(["commit", "-q", "-m", "first"], in: work)
        git(["clone", "-q", "--bare", work, bare], in: root)
        git(["remote", "add", "origin", bare], in: work)
        self.root = root
        self.work = work
        self.service = try HalyardService(
            configuration: ServiceConfiguration(
                repository: WatcherConfiguration(source: .remote(url: bare), pollInterval: .seconds(3600)),
                http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: 0),
                notify: ServiceConfiguration.Notify(allowPrivateNetworks: true),
                dataDirectory: root + "/state",
                logLevel: .critical
            ),
            logger: logger
        )
    }

    /// Runs the service until the task is cancelled; returns once it serves the first commit and knows its URL.
    public func start() async throws -> Task<Void, any Error> {
        let service = self.service
        let task = Task { try await service.run() }
        while service.store.current == nil || service.publicBaseURL == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        return task
    }

    /// Commits the flag (active or not) and pushes it to the origin; returns the new commit.
    public func commitAndPush(active: Bool, message: String) throws -> String {
        try benchFlag(active: active).write(toFile: self.work + "/flags/production/checkout.json", atomically: true, encoding: .utf8)
        git(["commit", "-q", "-am", message], in: self.work)
        git(["push", "-q", "origin", "main"], in: self.work)
        return git(["rev-parse", "HEAD"], in: self.work)
    }

    /// Stops the service task and removes the files.
    public func stop(_ task: Task<Void, any Error>) async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(atPath: self.root)
    }
}
