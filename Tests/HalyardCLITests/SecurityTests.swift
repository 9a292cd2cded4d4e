import Foundation
import HalyardTesting
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// DESIGN §13 on a real `halyard serve` process: credentials in `repo.url`, the modes of the data directory and the
/// database, and the warning about guessable tokens.
@Suite(.serialized)
struct SecurityTests {
    // MARK: - Credentials in repo.url

    @Test(arguments: [
        "https://x-access-token:SECRET-IN-URL@127.0.0.1:1/flags.git",
        "https://SECRET-IN-URL@127.0.0.1:1/flags.git",
        "ssh://git:SECRET-IN-URL@127.0.0.1:1/flags.git",
    ])
    func credentialsInTheRepoURLAreRefusedAtStartUp(url: String) async throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("halyard.json", #"{"repo": {"url": "\#(url)"}}"#)
        let ways: [(arguments: [String], environment: [String: String])] = [
            (["serve", "--repo", url], [:]),
            (["serve"], ["HALYARD_REPO_URL": url]),
            (["serve", "--config", "halyard.json"], [:]),
        ]
        for way in ways {
            let result = try await StartUp.run(
                way.arguments + ["--port", "0", "--data-dir", workspace.path + "/data"],
                in: workspace.path,
                environment: way.environment
            )
            #expect(result.status == 2, "\(way.arguments) \(way.environment): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("error: configuration key repo.url: "), "\(result.stderr)")
            #expect(result.stderr.contains("repo.auth.token or repo.auth.tokenFile"), "\(result.stderr)")
            #expect(!result.stderr.contains("SECRET") && !result.stdout.contains("SECRET"), "\(result.stderr)")
            #expect(result.stderr.contains("127.0.0.1:1/flags.git"))
        }
    }

    // MARK: - File modes

    @Test func aFreshDataDirectoryAndItsDatabaseArePrivate() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let commit = try fixture.workspace.commit("flags")
        try #"{"dataDir": "\#(fixture.dataDirectory)"}"#.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)

        #expect(try Self.mode(of: fixture.dataDirectory) == 0o700)
        let database = fixture.dataDirectory + "/halyard.sqlite"
        for file in [database, database + "-wal", database + "-shm"] {
            #expect(try Self.mode(of: file) == 0o600, "\(file)")
        }
    }

    @Test func theModesOfAnExistingDataDirectoryAreFixedAtStart() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let commit = try fixture.workspace.commit("flags")
        try #"{"dataDir": "\#(fixture.dataDirectory)"}"#.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let first = try await fixture.serve(run: 1)
        try await first.waitUntilApplied(commit)
        // A crash leaves the -wal and -shm files behind; then make everything readable, as an older Halyard did.
        first.kill()
        let database = fixture.dataDirectory + "/halyard.sqlite"
        let files = [database, database + "-wal", database + "-shm"]
        #expect(chmod(fixture.dataDirectory, 0o755) == 0)
        for file in files {
            #expect(chmod(file, 0o644) == 0, "\(file) exists after a crash")
        }

        let second = try await fixture.serve(run: 2)
        defer { second.kill() }
        try await second.waitUntilApplied(commit)
        #expect(try Self.mode(of: fixture.dataDirectory) == 0o700)
        for file in files {
            #expect(try Self.mode(of: file) == 0o600, "\(file)")
        }
    }

    // MARK: - Weak tokens

    @Test func shortTokensAreWarnedAboutAtStartUpWithoutShowingThem() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        try fixture.workspace.commit("flags")
        let config: [String: Any] = [
            "dataDir": fixture.dataDirectory,
            "auth": [
                "adminToken": "change-me",
                "readTokens": ["4f7d0c2a9b8e61f35d0c2a9b8e61f35d", "reader1"],
                "gitHookSecret": "1c9e3b7a5d2f80641c9e3b7a5d2f8064",
            ],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: fixture.configPath))
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }

        let warnings = serve.log.split(separator: "\n").filter { $0.contains("characters and easy to guess") }
        #expect(warnings.count == 2, "\(serve.log)")
        #expect(warnings.contains { $0.contains("auth.adminToken is shorter than 16 characters") }, "\(serve.log)")
        #expect(warnings.contains { $0.contains("auth.readTokens[1] is shorter than 16 characters") }, "\(serve.log)")
        #expect(warnings.allSatisfy { $0.contains("openssl rand -hex 32") })
        #expect(!serve.log.contains("change-me") && !serve.log.contains("reader1"), "\(serve.log)")
    }

    @Test func longTokensGetNoWarning() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        try fixture.workspace.commit("flags")
        let config: [String: Any] = [
            "dataDir": fixture.dataDirectory,
            "auth": ["adminToken": "0f5e2d9c8b7a61f35d0c2a9b8e61f35d", "readTokens": ["4f7d0c2a9b8e61f3"]],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: fixture.configPath))
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        #expect(!serve.log.contains("easy to guess"), "\(serve.log)")
    }

    private static func mode(of path: String) throws -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ServeError("cannot stat \(path): errno \(errno)") }
        return info.st_mode & 0o7777
    }
}

/// Runs `halyard` and waits for it to exit, or kills it after a deadline: a `serve` that should have refused to start
/// would otherwise run, and the test hang, forever.
enum StartUp {
    static func run(
        _ arguments: [String],
        in directory: String,
        environment: [String: String] = [:],
        deadline: Duration = .seconds(20)
    ) async throws -> HalyardBinary.Result {
        let outputs = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputs) }
        let stdoutURL = outputs.appendingPathComponent("stdout")
        let stderrURL = outputs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = HalyardBinary.url
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HALYARD_") }.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        let end = ContinuousClock.now + deadline
        while process.isRunning, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(20))
        }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return HalyardBinary.Result(
            status: timedOut ? -1 : process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: timedOut ? "still running after \(deadline)\n" + stderr : stderr
        )
    }
}
