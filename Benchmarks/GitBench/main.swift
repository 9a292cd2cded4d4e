import BenchSupport
import Foundation
import HalyardGit
import HalyardNotify
import HalyardSync
import Logging

// Builds a flag repository of 10,000 flags × 3 environments with 2,000 further commits, then measures a full snapshot
// load, an incremental load after a one-flag commit, and `halyard history` of one flag against `git log -- <path>`,
// and `halyard stale` over the whole history, then an SSE catch-up (`Last-Event-ID` 100 commits back) through a running watcher: first build, cached hit, and
// 300 concurrent requests for one uncached commit.

let flagsPerEnvironment = Int(ProcessInfo.processInfo.environment["BENCH_FLAGS"] ?? "") ?? 10_000
let historyCommits = Int(ProcessInfo.processInfo.environment["BENCH_COMMITS"] ?? "") ?? 2_000
let environments = ["development", "staging", "production"]
let followed = "flags/production/flag-00042.json"

func flagJSON(_ index: Int, version: Int) -> String {
    """
    {"name": "Flag \(index)", "description": "Benchmark flag \(index), version \(version)", "active": true, "rules": [
      [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"},
       {"type": "filter", "attribute": "country", "operator": "in", "comparator": ["NL", "BE", "DE"]}],
      [{"type": "%", "percentage": \(version % 100), "attribute": "userId"}]
    ]}

    """
}

@discardableResult
func shell(_ arguments: [String], in directory: String, input: Data? = nil) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = ["-C", directory] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try! process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(input)
        try! inputPipe.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}


let path = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: path) }
shell(["init", "-q", "-b", "main"], in: path)

print("building a repository: \(flagsPerEnvironment) flags × \(environments.count) environments, then \(historyCommits) commits …")
/// A `git fast-import` stream under construction.
struct FastImport {
    var text = ""
    var mark = 0

    mutating func blob(_ contents: String) -> Int {
        mark += 1
        text += "blob\nmark :\(mark)\ndata \(contents.utf8.count)\n\(contents)\n"
        return mark
    }

    mutating func commit(_ message: String, files: [(String, Int)], time: Int) {
        mark += 1
        text += "commit refs/heads/main\nmark :\(mark)\ncommitter Bench <bench@example.com> \(time) +0000\ndata \(message.utf8.count)\n\(message)\n"
        for (file, blobMark) in files { text += "M 100644 :\(blobMark) \(file)\n" }
        text += "\n"
    }
}

var stream = FastImport()
var initial: [(String, Int)] = []
for environment in environments {
    for index in 0..<flagsPerEnvironment {
        let blob = stream.blob(flagJSON(index, version: 0))
        initial.append(("flags/\(environment)/flag-\(String(format: "%05d", index)).json", blob))
    }
}
stream.commit("initial flags", files: initial, time: 1_700_000_000)
for number in 1...historyCommits {
    // Every tenth commit changes the followed flag; the others change some other flag.
    let environment = environments[number % environments.count]
    let index = number % 10 == 0 ? 42 : (number * 7919) % flagsPerEnvironment
    let file = number % 10 == 0 ? followed : "flags/\(environment)/flag-\(String(format: "%05d", index)).json"
    let blob = stream.blob(flagJSON(index, version: number))
    stream.commit("change \(file)", files: [(file, blob)], time: 1_700_000_000 + number * 60)
}
stream.text += "done\n"
shell(["fast-import", "--quiet"], in: path, input: Data(stream.text.utf8))
shell(["gc", "-q"], in: path)

let repository = try Repository.open(at: path)
let head = try repository.resolveCommit("HEAD")
let parent = try repository.resolveCommit("HEAD~1")
let loader = SnapshotLoader()

var parentSnapshot: Snapshot?
// Each run's snapshot is freed before the next run's clock starts: the figure is the load alone.
let (full, loadedParent) = try timedMedian(keeping: 3) { try loader.load(commit: parent, from: repository) }
parentSnapshot = loadedParent
print(String(format: "full load of %d flags:           %8.1f ms  (target < 500 ms, issue 16)", parentSnapshot!.flagCount, full * 1000))

let incremental = try timedMedian(9) { _ = try loader.load(commit: head, from: repository, after: parentSnapshot!) }
print(String(format: "incremental load, one flag:      %8.2f ms  (target < 20 ms)", incremental * 1000))

let diffOnly = try timedMedian(9) { _ = try repository.diff(from: parent, to: head, under: "flags") }
print(String(format: "  of which the libgit2 tree diff:  %8.2f ms", diffOnly * 1000))

var historyCount = 0
let history = try timedMedian(5) {
    var flagHistory = FlagHistory(repository: repository)
    historyCount = try flagHistory.entries(from: head, selection: .flag(environment: "production", id: "flag-00042")).count
}
var gitCount = 0
let gitLog = timedMedian(5) {
    gitCount = shell(["log", "--format=%H", "--", followed], in: path).split(separator: "\n").count
}
print(String(format: "history of one flag (%d entries): %8.1f ms", historyCount, history * 1000))
print(String(format: "git log -- <path> (%d commits):    %8.1f ms", gitCount, gitLog * 1000))
if ProcessInfo.processInfo.environment["BENCH_BREAKDOWN"] != nil {
    let walk = try timedMedian(5) { _ = try repository.firstParentHistory(from: head).commits() }
    let directories = try timedMedian(5) {
        for commit in try repository.firstParentHistory(from: head).commits() {
            _ = try repository.entryID(atPath: "flags/production", inCommit: commit.id)
        }
    }
    let files = try timedMedian(5) {
        for commit in try repository.firstParentHistory(from: head).commits() {
            if let tree = try repository.entryID(atPath: "flags/production", inCommit: commit.id) {
                _ = try repository.entryID(named: "flag-00042.json", inTree: tree)
            }
        }
    }
    let sameTree = try repository.entryID(atPath: "flags/production", inCommit: head)!
    let repeated = try timedMedian(3) { for _ in 0..<100 { _ = try repository.entryID(named: "flag-00042.json", inTree: sameTree) } }
    print(String(format: "  one tree read 100 times: %.3f ms each", repeated * 10))
    print(
        String(
            format: "  walk %.1f ms, + directory lookups %.1f ms, + file lookups in every commit %.1f ms",
            walk * 1000,
            directories * 1000,
            files * 1000
        )
    )
}
print(String(format: "ratio history / git log:          %8.2f  (target <= 2)", history / gitLog))

// `halyard stale`: the tip's flags, one history walk for every flag, and the three checks (DESIGN §14).
var staleFindings = 0
let stale = try timedMedian(3) {
    staleFindings = try StaleScanner(repository: repository).report(at: head, olderThan: .seconds(90 * 86_400)).findings.count
}
print(
    String(
        format: "stale, %d flags over %d commits (%d listed): %8.1f ms  (target < 2000 ms)",
        parentSnapshot!.flagCount, historyCommits + 1, staleFindings, stale * 1000))
if ProcessInfo.processInfo.environment["BENCH_BREAKDOWN"] != nil {
    let commits = try repository.firstParentHistory(from: head).commits()
    let diffs = try timedMedian(3) {
        for commit in commits { _ = try repository.diff(from: commit.parents.first, to: commit.id, under: "flags") }
    }
    let walk = try timedMedian(3) {
        var history = FlagHistory(repository: repository)
        _ = try history.entries(from: head, selection: .all)
    }
    let load = try timedMedian(3) { _ = try loader.load(commit: head, from: repository) }
    print(String(format: "  stale: tree diffs of every commit %.1f ms, whole history walk %.1f ms, load %.1f ms", diffs * 1000, walk * 1000, load * 1000))
}

// MARK: - SSE catch-up (DESIGN §13)

/// Times `FlagWatcher.changes(since:environment:)`, what the stream route calls for a stale `Last-Event-ID`.
func benchmarkCatchUp(repositoryPath: String, head: String, back100: String, back200: String) async throws {
    let dataDirectory = repositoryPath + "-data"
    defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
    var quiet = Logger(label: "git-bench")
    quiet.logLevel = .critical
    let store = FlagStore()
    let watcher = FlagWatcher(
        configuration: WatcherConfiguration(source: .local(path: repositoryPath), branch: "main", dataDirectory: dataDirectory),
        store: store,
        database: try StateDatabase(path: dataDirectory + "/halyard.sqlite"),
        listeners: [],
        logger: quiet
    )
    let running = Task { try await watcher.run() }
    while store.current?.commit != head { try await Task.sleep(for: .milliseconds(10)) }

    var start = ContinuousClock.now
    let first = await watcher.changes(since: back100, environment: "production")
    let firstBuild = seconds(ContinuousClock.now - start)
    print(
        String(
            format: "catch-up 100 commits back (%d changed), first build: %8.2f ms  (target < 100 ms)",
            first?.changed.count ?? -1,
            firstBuild * 1000
        )
    )
    let hits = 10_000
    start = ContinuousClock.now
    for _ in 0..<hits { _ = await watcher.changes(since: back100, environment: "staging") }
    let hit = seconds(ContinuousClock.now - start) / Double(hits)
    print(String(format: "catch-up, cached hit:                          %8.4f ms  (target < 0.05 ms)", hit * 1000))
    start = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<300 { group.addTask { _ = await watcher.changes(since: back200, environment: "production") } }
    }
    let concurrent = seconds(ContinuousClock.now - start)
    print(String(format: "catch-up, 300 concurrent of one new commit:    %8.2f ms  (target < 200 ms)", concurrent * 1000))
    running.cancel()
    _ = try? await running.value
}

try await benchmarkCatchUp(
    repositoryPath: path,
    head: head.hex,
    back100: try repository.resolveCommit("HEAD~100").hex,
    back200: try repository.resolveCommit("HEAD~200").hex
)
