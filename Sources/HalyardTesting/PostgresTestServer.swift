//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The PostgreSQL server of the tests: the one `Scripts/test` started (`HALYARD_TEST_POSTGRES_URL`), or else a
/// throw-away cluster this test process starts once, through `Scripts/lib/postgres-cluster`, and stops at exit.
///
/// Each test works in a database of its own, created with a random name and dropped afterwards:
///
/// ```swift
/// try await PostgresTestServer.withDatabase { database in
///     let store = try await PostgresStateStore.open(url: database.url, password: nil, logger: logger)
///     …
/// }
/// ```
public enum PostgresTestServer {
    /// The environment variable naming a running test server, `postgres://user@host:port/db` (trust authentication).
    public static let environmentVariable = "HALYARD_TEST_POSTGRES_URL"

    /// The server's URL (its `postgres` maintenance database), starting a cluster on first use when none was given.
    ///
    /// - Throws: ``PostgresTestServerError`` when the cluster cannot be started.
    public static func url() throws -> String {
        try server.withLock { server in
            if let server { return server.url }
            if let url = ProcessInfo.processInfo.environment[environmentVariable], !url.isEmpty {
                server = (url, nil)
                return url
            }
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("halyard-test-pg-\(UUID().uuidString.prefix(8))").path
            // This process owns it: should the process die before its `atexit`, the next start sweeps the cluster.
            let url = try run(clusterScript, ["start", directory, String(getpid())]).trimmingCharacters(in: .whitespacesAndNewlines)
            server = (url, directory)
            atexit { PostgresTestServer.stopOwnCluster() }
            return url
        }
    }

    /// Creates a fresh database, runs `body` with it, and drops it afterwards (also when `body` throws).
    public static func withDatabase<T>(_ body: (PostgresTestDatabase) async throws -> T) async throws -> T {
        let database = try createDatabase()
        do {
            let result = try await body(database)
            try? dropDatabase(database)
            return result
        } catch {
            try? dropDatabase(database)
            throw error
        }
    }

    /// Creates a database with a random name; ``dropDatabase(_:)`` removes it.
    public static func createDatabase() throws -> PostgresTestDatabase {
        let server = try url()
        let name = "halyard_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try run("/usr/bin/psql", ["-v", "ON_ERROR_STOP=1", "-q", "-d", server, "-c", "CREATE DATABASE \(name)"])
        return PostgresTestDatabase(serverURL: server, name: String(name))
    }

    /// Drops a database made by ``createDatabase()``, closing the connections still open to it.
    public static func dropDatabase(_ database: PostgresTestDatabase) throws {
        try run("/usr/bin/psql", ["-v", "ON_ERROR_STOP=1", "-q", "-d", database.serverURL, "-c", "DROP DATABASE IF EXISTS \(database.name) WITH (FORCE)"])
    }

    /// Starts a cluster of the caller's own, for a test that stops and restarts its server (a database outage) without
    /// disturbing the other tests; ``PostgresPrivateCluster/stop()`` removes it.
    ///
    /// - Throws: ``PostgresTestServerError`` when the cluster cannot be started.
    public static func startPrivateCluster() throws -> PostgresPrivateCluster {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("halyard-test-pg-private-\(UUID().uuidString.prefix(8))").path
        let url = try run(clusterScript, ["start", directory, String(getpid())]).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresPrivateCluster(serverURL: url, directory: directory)
    }

    /// Runs the cluster script with `arguments` (`pause DIR`, `resume DIR`, `stop DIR`, `sweep`).
    static func cluster(_ arguments: [String]) throws {
        try run(clusterScript, arguments)
    }

    // MARK: - Internals

    private static let server = Mutex<(url: String, directory: String?)?>(nil)

    private static var clusterScript: String {
        // Sources/HalyardTesting/PostgresTestServer.swift → the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/lib/postgres-cluster").path
    }

    private static func stopOwnCluster() {
        guard let directory = server.withLock({ $0?.directory }) else { return }
        _ = try? run(clusterScript, ["stop", directory])
    }

    /// Runs a command to its end and returns its standard output.
    ///
    /// Spawned with `posix_spawn` and reaped with `waitpid`, not with Foundation's `Process`: the cluster script leaves a
    /// daemon behind, and `Process.waitUntilExit()` was seen waiting forever on the script's exit (Swift 6.3, Linux).
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-pg-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outputPath = directory + "/stdout"
        let errorPath = directory + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw PostgresTestServerError(command: executable, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { break }
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with status 0: the low 7 bits (the signal) and the exit status byte are all zero.
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw PostgresTestServerError(command: ([executable] + arguments).joined(separator: " "), output: errors)
        }
        return output
    }
}

/// A database of its own for one test, on the test server.
public struct PostgresTestDatabase: Sendable {
    /// The server's maintenance URL (`…/postgres`).
    public let serverURL: String
    /// The database's name.
    public let name: String

    /// `postgres://user@host:port/<name>`.
    public var url: String {
        guard let slash = serverURL.lastIndex(of: "/") else { return serverURL }
        return serverURL[..<slash] + "/" + name
    }
}

/// A PostgreSQL cluster owned by one test (``PostgresTestServer/startPrivateCluster()``), which it may stop and start
/// again on the same port.
public struct PostgresPrivateCluster: Sendable {
    /// The server's maintenance URL (`…/postgres`).
    public let serverURL: String
    /// The cluster's directory.
    public let directory: String

    /// `postgres://user@host:port/postgres?sslmode=disable`: the database of the replicas under test.
    public var url: String { serverURL + "?sslmode=disable" }

    /// Stops the server (a fast shutdown: every session is cut) and keeps its data.
    public func pause() throws {
        try PostgresTestServer.cluster(["pause", directory])
    }

    /// Starts the server again on the same port.
    public func resume() throws {
        try PostgresTestServer.cluster(["resume", directory])
    }

    /// Stops the server and removes the cluster.
    public func stop() {
        try? PostgresTestServer.cluster(["stop", directory])
    }
}

/// A command of the test server (the cluster script, `psql`) that failed, with what it printed on standard error.
public struct PostgresTestServerError: Error, CustomStringConvertible {
    /// The command line.
    public let command: String
    /// Its standard error.
    public let output: String

    /// `<command> failed: <output>`.
    public var description: String { "\(command) failed: \(output)" }
}
