import AsyncHTTPClient
import BenchSupport
import Foundation
import HalyardGit
import HalyardService
import HalyardSync
import Hummingbird

// How Halyard's costs grow with the number of flags (issue 16 point 5). For 1,000, 10,000, 30,000 and 100,000 flags
// spread over three environments (BENCH_SCALE_SIZES=1000,10000 picks others), each with 1,000 one-flag commits of
// history (BENCH_SCALE_COMMITS), it measures:
//   - a full snapshot load, and an incremental load after a one-flag commit;
//   - the resident memory of a service (`halyard serve` as HalyardService assembles it) that has loaded the flags;
//   - bulk evaluation: `POST /evaluate` of every flag of one environment for one context, through that service's HTTP
//     API (so including the `/evaluate` JSON writer), in ns per flag;
//   - `history` of one flag against `git log -- <path>`.
// One line per figure with its target, then a Markdown table for the README.
//
// `scale-bench --serve <repository> <data directory>` is the service child it starts for the memory and evaluation
// figures: it prints `ready <base URL>` once the flags are served.

let arguments = CommandLine.arguments
if arguments.count == 4 && arguments[1] == "--serve" {
    try await serveChild(repository: arguments[2], dataDirectory: arguments[3])
    exit(0)
}

let sizes = (ProcessInfo.processInfo.environment["BENCH_SCALE_SIZES"] ?? "1000,10000,30000,100000")
    .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
let historyCommits = Int(ProcessInfo.processInfo.environment["BENCH_SCALE_COMMITS"] ?? "") ?? 1_000
let environments = ["development", "production", "staging"]

/// The figures of one size.
struct Row {
    var flags: Int
    var fullLoad = 0.0
    var incremental = 0.0
    var residentMB = 0.0
    var evaluatedFlags = 0
    var nanosecondsPerFlag = 0.0
    var history = 0.0
    var gitLog = 0.0
}

/// The issue's targets, which are stated for 30,000 flags where they depend on size.
enum Target {
    static let fullLoadPer30k = 500.0
    static let incrementalMs = 20.0
    static let residentMBAt30k = 100.0
    static let nanosecondsPerFlag = 150.0
    static let historyRatio = 2.0
}

var rows: [Row] = []
let client = HTTPClient.shared
for size in sizes {
    print("==> \(size.formatted()) flags over \(environments.count) environments, \(historyCommits.formatted()) commits of history")
    let repository = try ScaleRepository(flags: size, environments: environments, commits: historyCommits)
    defer { repository.remove() }
    var row = Row(flags: size)
    try measureLoads(repository, into: &row)
    try await measureService(repository, client: client, into: &row)
    try measureHistory(repository, into: &row)
    rows.append(row)
    print()
}
printTable(rows)

// MARK: - Figures

func measureLoads(_ scale: ScaleRepository, into row: inout Row) throws {
    let repository = try Repository.open(at: scale.path)
    let head = try repository.resolveCommit("HEAD")
    let parent = try repository.resolveCommit("HEAD~1")
    let loader = SnapshotLoader()
    var parentSnapshot: Snapshot?
    (row.fullLoad, parentSnapshot) = try timedMedian(keeping: row.flags >= 100_000 ? 3 : 5) {
        try loader.load(commit: parent, from: repository)
    }
    let loadTarget = Target.fullLoadPer30k * Double(row.flags) / 30_000
    report(
        "full load of \(parentSnapshot!.flagCount.formatted()) flags", row.fullLoad * 1000, "ms",
        target: "< \(Int(loadTarget.rounded())) ms, 500 ms per 30,000 flags")
    row.incremental = try timedMedian(9) { _ = try loader.load(commit: head, from: repository, after: parentSnapshot!) }
    report("incremental load, one flag changed", row.incremental * 1000, "ms", target: "< 20 ms")
}

func measureService(_ scale: ScaleRepository, client: HTTPClient, into row: inout Row) async throws {
    let child = try ServiceChild(repository: scale.path, dataDirectory: scale.path + "-state")
    defer { child.stop() }
    row.residentMB = Double(child.residentBytes()) / 1_048_576
    report(
        "resident memory of the service after load", row.residentMB, "MB",
        target: row.flags == 30_000 ? "< 100 MB at 30,000 flags" : "target < 100 MB at 30,000 flags")

    let environment = "production"
    let url = child.baseURL + "/v1/environments/\(environment)/evaluate"
    let body = #"{"context": {"targetingKey": "user-7", "userId": "user-7", "plan": "enterprise", "country": "NL"}}"#
    func evaluate() async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else {
            fatalError("POST \(url): \(response.status) \(String(buffer: bytes))")
        }
        return bytes.readableBytes
    }
    var bodySize = 0
    for _ in 0..<3 { bodySize = try await evaluate() }
    var samples: [Double] = []
    let runs = row.flags >= 100_000 ? 15 : 40
    for _ in 0..<runs {
        let start = ContinuousClock.now
        _ = try await evaluate()
        samples.append(seconds(ContinuousClock.now - start))
    }
    row.evaluatedFlags = scale.flagsIn(environment)
    row.nanosecondsPerFlag = median(samples) * 1e9 / Double(row.evaluatedFlags)
    report(
        "bulk /evaluate, \(row.evaluatedFlags.formatted()) flags (\(bodySize.formatted()) bytes), per flag", row.nanosecondsPerFlag,
        "ns", target: "<= 150 ns end to end")
}

func measureHistory(_ scale: ScaleRepository, into row: inout Row) throws {
    let repository = try Repository.open(at: scale.path)
    let head = try repository.resolveCommit("HEAD")
    var entries = 0
    row.history = try timedMedian(5) {
        var history = FlagHistory(repository: repository)
        entries = try history.entries(from: head, selection: .flag(environment: "production", id: scale.followedID)).count
    }
    var commits = 0
    row.gitLog = timedMedian(5) {
        commits = git(["log", "--format=%H", "--", scale.followedPath], in: scale.path).split(separator: "\n").count
    }
    report("history of one flag (\(entries) entries)", row.history * 1000, "ms", target: "")
    report("git log -- <path> (\(commits) commits)", row.gitLog * 1000, "ms", target: "")
    report("ratio history / git log", row.history / row.gitLog, "", target: "<= 2")
}

func report(_ label: String, _ value: Double, _ unit: String, target: String) {
    let figure = String(format: value >= 100 || unit == "MB" ? "%.0f" : "%.2f", value)
    let padded = label.padding(toLength: max(label.count, 58), withPad: " ", startingAt: 0)
    print("\(padded) \(figure.leftPadded(9)) \(unit.padding(toLength: 2, withPad: " ", startingAt: 0))" + (target.isEmpty ? "" : "  (\(target))"))
}

func printTable(_ rows: [Row]) {
    print("| flags (3 environments) | full load | incremental load | service RSS | bulk `/evaluate` per flag | `history` of one flag / `git log -- path` |")
    print("|---|---|---|---|---|---|")
    for row in rows {
        print(
            "| \(row.flags.formatted()) | \(String(format: "%.0f", row.fullLoad * 1000)) ms | \(String(format: "%.1f", row.incremental * 1000)) ms"
                + " | \(String(format: "%.0f", row.residentMB)) MB | \(String(format: "%.0f", row.nanosecondsPerFlag)) ns"
                + " | \(String(format: "%.0f", row.history * 1000)) / \(String(format: "%.0f", row.gitLog * 1000)) ms |")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

// MARK: - The repository

/// A flag repository of `flags` flags over the environments, then `commits` commits that each change one flag (every
/// tenth the followed one), written with `git fast-import` and packed.
struct ScaleRepository {
    let path: String
    let flags: Int
    let environments: [String]
    let followedID = "flag-000042"
    var followedPath: String { "flags/production/\(followedID).json" }

    init(flags: Int, environments: [String], commits: Int) throws {
        self.flags = flags
        self.environments = environments
        path = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        git(["init", "-q", "-b", "main"], in: path)
        let start = ContinuousClock.now
        var stream = FastImportStream()
        var files: [(String, Int)] = []
        for index in 0..<flags {
            let environment = environments[index % environments.count]
            let id = Self.id(index / environments.count)
            files.append(("flags/\(environment)/\(id).json", stream.blob(Self.flagJSON(index, version: 0))))
        }
        stream.commit("initial flags", files: files, time: 1_700_000_000)
        let perEnvironment = max(1, flags / environments.count)
        for number in 1...max(1, commits) {
            let file: String
            if number % 10 == 0 {
                file = "flags/production/\(followedID).json"
            } else {
                file = "flags/\(environments[number % environments.count])/\(Self.id((number * 7919) % perEnvironment)).json"
            }
            stream.commit("change \(file)", files: [(file, stream.blob(Self.flagJSON(number, version: number)))], time: 1_700_000_000 + number * 60)
        }
        stream.finish()
        try stream.run(in: path)
        git(["gc", "-q"], in: path)
        print(String(format: "  built with git fast-import and gc in %.1f s", seconds(ContinuousClock.now - start)))
    }

    static func id(_ index: Int) -> String { "flag-" + String(format: "%06d", index) }

    /// Four boolean flags in five, like git-bench's; every fifth a typed flag serving strings.
    static func flagJSON(_ index: Int, version: Int) -> String {
        if index % 5 == 4 {
            return """
                {"name": "Layout \(index)", "active": true, "variants": {"classic": "classic", "compact": "compact", "one-page": "one-page"},
                 "defaultVariant": "classic", "rules": [
                  {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
                  {"when": [], "split": {"attribute": "targetingKey", "variants": [{"variant": "compact", "percentage": \(version % 100)}, {"variant": "classic", "percentage": \(100 - version % 100)}]}}
                ], "metadata": {"owner": "team-\(index % 7)"}}

                """
        }
        return """
            {"name": "Flag \(index)", "description": "Benchmark flag \(index), version \(version)", "active": true, "rules": [
              [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"},
               {"type": "filter", "attribute": "country", "operator": "in", "comparator": ["NL", "BE", "DE"]}],
              [{"type": "%", "percentage": \(version % 100), "attribute": "userId"}]
            ]}

            """
    }

    /// How many flags the environment has.
    func flagsIn(_ environment: String) -> Int {
        guard let position = environments.firstIndex(of: environment) else { return 0 }
        return flags / environments.count + (position < flags % environments.count ? 1 : 0)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-state")
    }
}

/// A `git fast-import` stream under construction, written to a file (100,000 flags make tens of megabytes).
struct FastImportStream {
    private var data = Data()
    private var mark = 0

    mutating func blob(_ contents: String) -> Int {
        mark += 1
        data.append(contentsOf: Array("blob\nmark :\(mark)\ndata \(contents.utf8.count)\n".utf8))
        data.append(contentsOf: Array(contents.utf8))
        data.append(0x0a)
        return mark
    }

    mutating func commit(_ message: String, files: [(String, Int)], time: Int) {
        mark += 1
        var text = "commit refs/heads/main\nmark :\(mark)\ncommitter Bench <bench@example.com> \(time) +0000\n"
        text += "data \(message.utf8.count)\n\(message)\n"
        data.append(contentsOf: Array(text.utf8))
        for (file, blob) in files { data.append(contentsOf: Array("M 100644 :\(blob) \(file)\n".utf8)) }
        data.append(0x0a)
    }

    mutating func finish() { data.append(contentsOf: Array("done\n".utf8)) }

    func run(in directory: String) throws {
        let file = directory + ".fast-import"
        try data.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", directory, "fast-import", "--quiet"]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { fatalError("git fast-import failed with status \(process.terminationStatus)") }
    }
}

// MARK: - The service child

/// This executable run with `--serve`: a HalyardService on the repository, its URL on standard output.
struct ServiceChild {
    let process: Process
    let baseURL: String

    init(repository: String, dataDirectory: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["--serve", repository, dataDirectory]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { fatalError("the service child exited before serving") }
            if byte.first == 0x0a { break }
            line.append(byte)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, words[0] == "ready" else { fatalError("unexpected line from the service child: \(words)") }
        baseURL = String(words[1])
    }

    /// The child's resident set size, from /proc/<pid>/statm.
    func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

func serveChild(repository: String, dataDirectory: String) async throws {
    let service = try HalyardService(
        configuration: ServiceConfiguration(
            repository: WatcherConfiguration(
                source: .local(path: repository), branch: "main", localPollInterval: .seconds(3600), dataDirectory: dataDirectory),
            http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: 0),
            dataDirectory: dataDirectory,
            logLevel: .critical
        ),
        logger: quietLogger("scale-bench-child")
    )
    let task = Task { try await service.run() }
    while service.store.current == nil || service.publicBaseURL == nil {
        try await Task.sleep(for: .milliseconds(10))
    }
    FileHandle.standardOutput.write(Data("ready \(service.publicBaseURL!)\n".utf8))
    try await task.value
}
