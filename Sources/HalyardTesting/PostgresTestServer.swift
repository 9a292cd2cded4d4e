//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

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
            let url = try run(clusterScript, ["start", directory]).trimmingCharacters(in: .whitespacesAndNewlines)
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

    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresTestServerError(command: ([executable] + arguments).joined(separator: " "), output: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: outputData, as: UTF8.self)
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

/// A command of the test server (the cluster script, `psql`) that failed, with what it printed on standard error.
public struct PostgresTestServerError: Error, CustomStringConvertible {
    /// The command line.
    public let command: String
    /// Its standard error.
    public let output: String

    /// `<command> failed: <output>`.
    public var description: String { "\(command) failed: \(output)" }
}
