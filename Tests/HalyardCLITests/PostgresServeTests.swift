import Foundation
import HalyardNotify
import HalyardTesting
import Logging
import Testing

/// `halyard serve` with its state in PostgreSQL (`state.url`), as a real process against the tests' PostgreSQL server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PostgresServeTests {
    @Test func testServeWithStateURLAppliesACommitAndDeliversItsWebhook() async throws {
        try await self.withCheckoutFixture { fixture, url, receiver, first in
            let serve = try await fixture.serve(run: 1)
            defer { serve.kill() }
            try await serve.waitUntilApplied(first)
            try fixture.workspace.write("flags/production/new-checkout.json", WebhookDurabilityTests.checkoutOff)
            let change = try fixture.workspace.commit("Switch new-checkout off")
            try await eventually("the receiver is called for \(change)\n\(serve.log)", timeout: .seconds(20)) {
                receiver.calls.contains { $0.succeeded }
            }
            let call = try #require(receiver.calls.first { $0.succeeded })
            let data = try #require(call.json?["data"] as? [String: Any])
            #expect(data["commit"] as? String == change)
            #expect(data["previousCommit"] as? String == first)
            #expect((data["flagsUrl"] as? String)?.hasPrefix("http://127.0.0.1:") == true)

            // The state is PostgreSQL's: the applied commit and the delivery log are there, and no SQLite file.
            var logger = Logger(label: "postgres-serve-tests")
            logger.logLevel = .critical
            let store = try await PostgresStateStore.open(location: try PostgresLocation(url: url), password: nil, logger: logger)
            defer { store.close() }
            try await eventually("the delivery is logged in PostgreSQL") {
                guard let subscription = try await store.subscriptions().first else { return false }
                return try await store.deliveries(subscriptionID: subscription.id, limit: 10).map(\.result) == ["delivered"]
            }
            #expect(try await store.appliedState()?.commit == change)
            #expect(try await store.pendingMessageCount() == 0)
            #expect(!FileManager.default.fileExists(atPath: fixture.dataDirectory + "/halyard.sqlite"))
        }
    }

    /// Nothing was published yet, and the replica serves a second commit before it can publish: the first publication
    /// must carry the change from the commit it served first, or subscribers that fetched that commit are never told.
    @Test func testAChangeServedBeforeTheFirstPublicationIsStillDelivered() async throws {
        try await self.withCheckoutFixture { fixture, url, receiver, first in
            // Another holder of the publisher lock keeps the replica from publishing, as a publisher that is slow
            // or a replica that takes the lock over late would.
            var logger = Logger(label: "postgres-serve-tests")
            logger.logLevel = .critical
            let holder = try await PostgresStateStore.open(location: try PostgresLocation(url: url), password: nil, logger: logger)
            var closed = false
            defer { if !closed { holder.close() } }
            #expect(try await holder.acquirePublisherLock())

            let serve = try await fixture.serve(run: 1)
            defer { serve.kill() }
            try await serve.waitUntilApplied(first)
            try fixture.workspace.write("flags/production/new-checkout.json", WebhookDurabilityTests.checkoutOff)
            let change = try fixture.workspace.commit("Switch new-checkout off")
            try await serve.waitUntilApplied(change)
            #expect(receiver.calls.isEmpty)

            holder.close()
            closed = true
            try await eventually("the receiver is called for \(change)\n\(serve.log)", timeout: .seconds(20)) {
                receiver.calls.contains { $0.succeeded }
            }
            let data = try #require(receiver.calls.first { $0.succeeded }?.json?["data"] as? [String: Any])
            #expect(data["commit"] as? String == change)
            #expect(data["previousCommit"] as? String == first)
        }
    }

    @Test func testStateURLWithAPasswordIsRefusedWithAHint() throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try self.writeConfig(fixture, stateURL: "postgres://halyard:hunter2@127.0.0.1:5432/halyard", subscribing: nil)
        let result = try HalyardBinary.run(["serve", "--config", fixture.configPath, "--port", "0"], in: fixture.workspace.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("state.passwordFile"))
        #expect(result.stderr.contains("HALYARD_STATE_PASSWORD"))
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test func testAnUnreachableStateURLDoesNotStopTheStartUpAndTheStatusShowsTheReason() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/new-checkout.json", WebhookDurabilityTests.checkoutOn)
        let first = try fixture.workspace.commit("Add new-checkout")
        // Port 1 on loopback: nothing listens there, as when PostgreSQL is down (DESIGN §10: keep serving, stay ready).
        try self.writeConfig(fixture, stateURL: "postgres://halyard@127.0.0.1:1/halyard?sslmode=disable", subscribing: nil)
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(first)
        let state = try #require(try await serve.status()["state"] as? [String: Any])
        #expect(state["reachable"] as? Bool == false)
        #expect((state["lastError"] as? String)?.contains("refused") == true, "\(state)")
        #expect(serve.log.contains("PostgreSQL cannot be reached"), "\(serve.log)")
    }

    @Test func testAServerThatRefusesTheDatabaseStopsTheStartUpWithItsMessage() async throws {
        var location = try PostgresLocation(url: try PostgresTestServer.url())
        location.database = "halyard_no_such_database"
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try self.writeConfig(fixture, stateURL: location.description + "?sslmode=disable", subscribing: nil)
        let result = try HalyardBinary.run(["serve", "--config", fixture.configPath, "--port", "0"], in: fixture.workspace.path)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("error: state database \(location.description)"), "\(result.stderr)")
        #expect(result.stderr.contains("does not exist"), "\(result.stderr)")
    }

    @Test func testTheClaimLeaseIsCheckedAtStartUp() throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        for (lease, error) in [
            ("2s", "configuration key state.claimLease: 2s is out of range: use 5s to 1h"),
            ("2h", "configuration key state.claimLease: 7200s is out of range: use 5s to 1h"),
            ("soon", "configuration key state.claimLease: 'soon' is not a duration (use seconds, or 500ms, 30s, 5m, 1h)"),
        ] {
            let config: [String: Any] = ["dataDir": fixture.dataDirectory, "state": ["claimLease": lease]]
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: fixture.configPath))
            let result = try HalyardBinary.run(["serve", "--config", fixture.configPath, "--port", "0"], in: fixture.workspace.path)
            #expect(result.status == 2, "\(lease): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: \(error)"), "\(lease): \(result.stderr)")
        }
    }

    /// A repository whose first commit switches new-checkout on, served with its state in a fresh test database and
    /// a receiver subscribed to production: `body` gets the fixture, the database URL, the receiver and that commit.
    private func withCheckoutFixture(_ body: (ServeFixture, String, WebhookReceiver, String) async throws -> Void) async throws {
        try await PostgresTestServer.withDatabase { database in
            try await WebhookReceiver.with(status: 204) { receiver in
                let fixture = try ServeFixture()
                defer { fixture.remove() }
                try fixture.workspace.write("flags/production/new-checkout.json", WebhookDurabilityTests.checkoutOn)
                let first = try fixture.workspace.commit("Add new-checkout")
                let url = database.url + "?sslmode=disable"
                try self.writeConfig(fixture, stateURL: url, subscribing: receiver.url)
                try await body(fixture, url, receiver, first)
            }
        }
    }

    private func writeConfig(_ fixture: ServeFixture, stateURL: String, subscribing url: String?) throws {
        var config: [String: Any] = [
            "dataDir": fixture.dataDirectory,
            "notify": ["allowPrivateNetworks": true],  // the receiver listens on loopback
            "state": ["url": stateURL],
        ]
        if let url {
            config["subscriptions"] = [["url": url, "environments": ["production"], "secret": ServeFixture.secret]]
        }
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: fixture.configPath))
    }
}
