//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import HalyardTesting
import Synchronization
import Testing

/// Deliveries verified by the reference Python `standardwebhooks` package.
///
/// Runs when `HALYARD_INTEROP_PYTHON` names a Python interpreter with `standardwebhooks` installed
/// (`python3 -m venv .venv && .venv/bin/pip install standardwebhooks`).
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["HALYARD_INTEROP_PYTHON"] != nil, "set HALYARD_INTEROP_PYTHON to run"),
    .timeLimit(.minutes(2))
)
struct InteropTests {
    /// `Tests/Interop/webhook_receiver.py`, found from this file (through symbolic links) or `HALYARD_INTEROP_RECEIVER`.
    static var receiverScript: String {
        if let path = ProcessInfo.processInfo.environment["HALYARD_INTEROP_RECEIVER"] {
            return path
        }
        return URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Interop/webhook_receiver.py")
            .path
    }

    @Test func testStandardWebhooksLibraryVerifiesDeliveries() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["HALYARD_INTEROP_PYTHON"])
        let secret = WebhookSigner.generateSecret()
        let receiver = try PythonReceiver(python: python, script: Self.receiverScript, secret: secret)
        defer { receiver.terminate() }
        let port = try await receiver.waitForPort()

        let database = try StateDatabase(path: Fixtures.databasePath())
        try database.replaceStaticSubscriptions([
            StaticSubscription(url: "http://127.0.0.1:\(port)/hook", environments: ["production", "staging"], secret: secret),
            // Signed with another secret: the receiver must reject it.
            StaticSubscription(url: "http://127.0.0.1:\(port)/forged", environments: ["production"], secret: WebhookSigner.generateSecret()),
        ])
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [
                Fixtures.change("production", "c2", from: "c1", ["new-checkout": ("a", "b"), "dark-mode": (nil, "c")]),
                Fixtures.change("staging", "c2", from: "c1", ["old-banner": ("d", nil)]),
            ],
            fetchedAt: Date()
        )
        let subscriptions = try database.subscriptions()
        let good = try #require(subscriptions.first { $0.url.hasSuffix("/hook") })
        let forged = try #require(subscriptions.first { $0.url.hasSuffix("/forged") })
        let expectedIDs = Set(try database.pendingMessages(subscriptionID: good.id).map(\.messageID))
        #expect(expectedIDs.count == 2)

        try await Fixtures.withHTTPClient { client in
            let deliverer = WebhookDeliverer(database: database, httpClient: client, configuration: .loopback, logger: Fixtures.logger)
            try await Fixtures.withDeliverer(deliverer) {
                try await eventually("two verified deliveries and one rejection", timeout: .seconds(20)) {
                    try database.pendingMessages(subscriptionID: good.id).isEmpty
                        && !database.deliveries(subscriptionID: forged.id).isEmpty
                }
            }
        }

        let lines = receiver.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == 2)
        #expect(Set(lines.compactMap { $0["id"] as? String }) == expectedIDs)
        #expect(lines.allSatisfy { $0["path"] as? String == "/hook" && $0["contentType"] as? String == "application/json" })
        let payloads = lines.compactMap { $0["payload"] as? [String: Any] }
        let environments = payloads.compactMap { ($0["data"] as? [String: Any])?["environment"] as? String }
        #expect(Set(environments) == ["production", "staging"])
        let production = try #require(payloads.first { ($0["data"] as? [String: Any])?["environment"] as? String == "production" })
        #expect(production["type"] as? String == "flags.changed")
        #expect((production["data"] as? [String: Any])?["added"] as? [String] == ["dark-mode"])
        #expect((production["data"] as? [String: Any])?["changed"] as? [String] == ["new-checkout"])

        #expect(try database.deliveries(subscriptionID: good.id).allSatisfy { $0.result == "delivered" && $0.status == 204 })
        let rejected = try #require(try database.deliveries(subscriptionID: forged.id).first)
        #expect(rejected.status == 400)
        #expect(rejected.result == "failed")
    }
}

/// The Python receiver as a child process, with its standard output collected line by line.
final class PythonReceiver: Sendable {
    private let process: Process
    private let collected = Mutex<(lines: [String], partial: String, closed: Bool)>(([], "", false))

    init(python: String, script: String, secret: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "0", secret]
        let output = Pipe()
        process.standardOutput = output
        self.process = process
        try process.run()
        let handle = output.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                let text = String(decoding: data, as: UTF8.self)
                let done = self.collected.withLock { state -> Bool in
                    if data.isEmpty {
                        state.closed = true
                        return true
                    }
                    state.partial += text
                    while let newline = state.partial.firstIndex(of: "\n") {
                        state.lines.append(String(state.partial[..<newline]))
                        state.partial = String(state.partial[state.partial.index(after: newline)...])
                    }
                    return false
                }
                if done { return }
            }
        }
        thread.start()
    }

    /// The JSON lines printed for verified requests.
    var lines: [String] {
        self.collected.withLock { $0.lines }.filter { !$0.hasPrefix("READY ") }
    }

    /// Waits for `READY <port>`.
    func waitForPort() async throws -> Int {
        var port: Int?
        try await eventually("the Python receiver to start", timeout: .seconds(20)) {
            port = self.collected.withLock { $0.lines }.first { $0.hasPrefix("READY ") }.flatMap { Int($0.dropFirst(6)) }
            return port != nil || !self.process.isRunning
        }
        return try #require(port, "the receiver exited with status \(self.process.isRunning ? 0 : self.process.terminationStatus)")
    }

    func terminate() {
        if self.process.isRunning {
            // SIGKILL: the child may have inherited a mask that blocks SIGTERM.
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }
}
