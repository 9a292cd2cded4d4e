//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardSync
import HalyardTesting
import Logging
import ServiceLifecycle
import Testing

@testable import HalyardNotify

/// Shared builders for the notify tests.
enum Fixtures {
    /// A service base URL for tests about a body that carries its whole `flagsUrl` (see ``StateDatabase/storeFlagsURLs(base:)``).
    static let flagsBaseURL = "http://127.0.0.1:8080"

    /// A fresh database path in its own temporary directory.
    static func databasePath() -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("halyard-notify-tests")
            .appendingPathComponent(UUID().uuidString)
        return directory.appendingPathComponent("state.sqlite").path
    }

    /// A change from fingerprint tuples: `["a": (nil, "f1")]` adds `a`.
    static func change(
        _ environment: String,
        _ commit: String,
        from previousCommit: String?,
        _ transitions: [String: (String?, String?)]
    ) -> EnvironmentChange {
        EnvironmentChange(
            environment: environment,
            commit: commit,
            previousCommit: previousCommit,
            transitions: transitions.mapValues { FlagTransition(before: $0.0, after: $0.1) }
        )
    }

    static func applied(_ commit: String, at date: Date = Date()) -> AppliedState {
        AppliedState(commit: commit, appliedAt: date, lastChange: [:])
    }

    static var logger: Logger {
        var logger = Logger(label: "halyard-notify-tests")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with an HTTP client configured for webhooks, and shuts it down afterwards.
    static func withHTTPClient<T>(
        timeout: Duration = .seconds(10),
        _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: WebhookDeliverer.httpClientConfiguration(timeout: timeout)
        )
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Runs a deliverer in the background while `body` runs, then cancels it and waits for it to stop.
    static func withDeliverer<T>(
        _ deliverer: WebhookDeliverer,
        _ body: () async throws -> T
    ) async throws -> T {
        let task = Task { try await deliverer.run() }
        do {
            let result = try await body()
            task.cancel()
            _ = await task.result
            return result
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    /// Runs `body` with a started receiver, and stops it afterwards.
    static func withReceiver<T>(
        _ handler: @escaping TestReceiver.Handler = { _, _ in .ok },
        _ body: (TestReceiver) async throws -> T
    ) async throws -> T {
        let receiver = try await TestReceiver.start(handler: handler)
        do {
            let result = try await body(receiver)
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }

    /// Runs `service` in a service group while `body` runs, then triggers a graceful shutdown and waits for it.
    static func withGracefulShutdown(of service: some Service, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], cancellationSignals: [], logger: Self.logger)
        let task = Task { try await group.run() }
        do {
            try await body()
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Sleeps for a fixed time, to show that something (a duplicate request) did NOT happen: absence can only be
    /// observed over a bounded window. Never use it to wait for something that must happen; use ``eventually``.
    static func sleepToProveNothingMoreArrives(for window: Duration = .milliseconds(300)) async throws {
        try await Task.sleep(for: window)
    }
}

extension WebhookDeliverer.Configuration {
    /// The defaults, except that private networks are allowed: every receiver of these tests listens on loopback.
    static var loopback: Self { Self(allowPrivateNetworks: true) }
}

extension StateDatabase {
    /// Puts `base` in front of the path-only `flagsUrl` of every pending body, as a deliverer does before its first
    /// attempt and as versions before the service assembly stored it: for tests about a body with its whole URL.
    func storeFlagsURLs(base: String) throws {
        for message in try self.pendingMessages() {
            try self.storeCompletedBody(WebhookPayload.resolvingFlagsURL(message.body, base: base), messageID: message.messageID)
        }
    }
}
