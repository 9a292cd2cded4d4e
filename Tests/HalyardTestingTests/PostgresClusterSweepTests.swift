//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import HalyardTesting

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A test run that is killed, or crashes, cannot stop the PostgreSQL cluster it started: they piled up in the
/// temporary directory, each a server and 50-300 MB. A cluster records the process it belongs to, and starting one
/// first sweeps away those whose owner has gone; clusters with a live owner are kept.
@Suite(.timeLimit(.minutes(2)))
struct PostgresClusterSweepTests {
    @Test func aClusterWhoseOwnerHasGoneIsStoppedAndRemovedWhileALiveOneIsKept() async throws {
        let base = FileManager.default.temporaryDirectory.path
        let kept = base + "/halyard-test-pg-sweep-kept-\(UUID().uuidString.prefix(8))"
        let orphan = base + "/halyard-test-pg-sweep-orphan-\(UUID().uuidString.prefix(8))"
        defer {
            try? PostgresTestServer.cluster(["stop", kept])
            try? PostgresTestServer.cluster(["stop", orphan])
        }
        // The live one first: starting a cluster sweeps, and would take the orphan away before the test looks.
        try PostgresTestServer.cluster(["start", kept, String(getpid())])
        try PostgresTestServer.cluster(["start", orphan, String(try Self.exitedProcessID())])
        let orphanServer = try Self.postmasterPID(orphan)
        #expect(Self.isRunning(orphanServer))

        try PostgresTestServer.cluster(["sweep"])

        #expect(!FileManager.default.fileExists(atPath: orphan))
        try await eventually("the orphan's server (pid \(orphanServer)) has stopped") { !Self.isRunning(orphanServer) }
        #expect(Self.isRunning(try Self.postmasterPID(kept)))
    }

    /// The pid of a process that has run and exited (and been reaped).
    static func exitedProcessID() throws -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// The server's pid, the first line of `data/postmaster.pid`.
    static func postmasterPID(_ directory: String) throws -> pid_t {
        let text = try String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8)
        return pid_t(text.split(separator: "\n").first.flatMap { Int32($0) } ?? 0)
    }

    static func isRunning(_ pid: pid_t) -> Bool {
        pid > 0 && FileManager.default.fileExists(atPath: "/proc/\(pid)")
    }
}
