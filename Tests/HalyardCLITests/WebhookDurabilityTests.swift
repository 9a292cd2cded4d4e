import Foundation
import HalyardNotify
import HalyardTesting
import Testing

/// Webhook refresh calls end to end through the real `halyard` binary: a process killed while a message is pending
/// loses nothing and re-sends nothing acknowledged, and commits without an effective change call no one.
///
/// Several checks are about something *not* happening. Absence cannot be observed directly: a message that was going
/// to be sent could always arrive one instant after the test looks. So these tests first make sure the cause has been
/// processed (the commit is applied or rejected, the process is ready), then watch the receiver for a bounded time,
/// ``silence``. A pending message is due immediately and the deliverer scans the outbox as soon as it starts, so a
/// wrongful call would come within milliseconds; 1.5 s is a wide margin that keeps the tests fast.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WebhookDurabilityTests {
    /// How long the tests watch a receiver to conclude that no call is coming.
    static let silence: Duration = .milliseconds(1500)

    /// Watches the receiver for `window` (``silence`` by default), to show that no call arrives. Never use it to wait
    /// for a call that must come; use `eventually`.
    static func sleepToProveNoCallArrives(for window: Duration = Self.silence) async throws {
        try await Task.sleep(for: window)
    }

    static let checkoutOn = """
        {"name": "New checkout", "active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]]}
        """
    static let checkoutOff = """
        {"name": "New checkout", "active": false, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]]}
        """
    /// `checkoutOn` reindented, with its keys in another order: the same flag.
    static let checkoutOnReformatted = """
        {
            "rules": [
                [
                    {"comparator": "enterprise", "operator": "==", "attribute": "plan", "type": "filter"}
                ]
            ],
            "active": true,
            "name": "New checkout"
        }
        """

    /// A repository with `new-checkout` on in production and staging, subscribed for production only.
    func makeFixture(subscribing url: String) throws -> (fixture: ServeFixture, first: String) {
        let fixture = try ServeFixture()
        try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
        try fixture.workspace.write("flags/staging/new-checkout.json", Self.checkoutOn)
        let first = try fixture.workspace.commit("Add new-checkout")
        try fixture.writeConfig(subscribing: url, to: ["production"])
        return (fixture, first)
    }

    @Test func testPendingMessageSurvivesSIGKILLAndIsDeliveredOnceWithTheSameID() async throws {
        try await WebhookReceiver.with(status: 503) { receiver in
            let (fixture, first) = try self.makeFixture(subscribing: receiver.url)
            defer { fixture.remove() }

            // 1. An effective change is enqueued; the receiver refuses it, so the message stays pending.
            let crashed = try await fixture.serve(run: 1)
            defer { crashed.kill() }
            try await crashed.waitUntilApplied(first)
            try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
            let change = try fixture.workspace.commit("Switch new-checkout off")
            try await eventually("the receiver sees an attempt\n\(crashed.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
                !receiver.calls.isEmpty
            }

            // 2. The process dies without any chance to clean up.
            crashed.kill()
            #expect(crashed.process.terminationReason == .uncaughtSignal)
            // Any request the dead process had fully sent is answered (503) before the receiver switches: its connections
            // close only after every request on them was answered.
            try await eventually("the receiver closes the dead process's connections") { receiver.openConnections == 0 }
            receiver.answer(204)
            let failed = receiver.calls
            #expect(failed.allSatisfy { !$0.succeeded })
            let failedIDs = Set(failed.compactMap(\.webhookID))
            #expect(failedIDs.count == 1, "every retry carries the same webhook-id: \(failedIDs)")
            let messageID = try #require(failedIDs.first)

            // 3. A new process on the same data directory sends the pending message, once, with the same id.
            let restarted = try await fixture.serve(run: 2)
            defer { restarted.kill() }
            try await eventually("the pending message is delivered\n\(restarted.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
                receiver.calls.contains(where: \.succeeded)
            }
            let subscriptionID = try await self.subscriptionID(restarted)
            try await eventually("halyard records the delivery", timeout: .seconds(5), retrying: ServeError.meansNotYet) {
                try await self.deliveries(restarted, subscriptionID).contains { $0["result"] as? String == "delivered" }
            }
            let delivered = receiver.calls.filter(\.succeeded)
            try #require(delivered.count == 1)
            let call = delivered[0]
            #expect(call.webhookID == messageID)
            try self.expectValidSignature(call)
            #expect(failed.allSatisfy { $0.body == call.body }, "the body is built once and re-sent byte for byte")
            // The body was written when the first process enqueued the message, so `flagsUrl` names that process's
            // (random) port; with a fixed port or `http.publicURL`, as in production, every process names the same.
            try self.expectBody(call, commit: change, previousCommit: first, changed: ["new-checkout"], base: crashed.baseURL)

            // 4. The acknowledgement is durable: after another crash and restart, nothing is sent again.
            restarted.kill()
            let callsBefore = receiver.calls.count
            let third = try await fixture.serve(run: 3)
            defer { third.kill() }
            try await third.waitUntilApplied(change)
            try await Self.sleepToProveNoCallArrives()
            #expect(receiver.calls.count == callsBefore, "an acknowledged message was sent again:\n\(third.log)")
            let log = try await self.deliveries(third, subscriptionID)
            #expect(log.allSatisfy { $0["messageId"] as? String == messageID })
            #expect(log.filter { $0["result"] as? String == "delivered" }.count == 1)
        }
    }

    @Test func testReformatAndRejectedCommitsCallNoOne() async throws {
        try await WebhookReceiver.with(status: 204) { receiver in
            let (fixture, first) = try self.makeFixture(subscribing: receiver.url)
            defer { fixture.remove() }
            let serve = try await fixture.serve(run: 1)
            defer { serve.kill() }
            try await serve.waitUntilApplied(first)

            // A reformat with reordered keys: a new commit, the same flags.
            try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOnReformatted)
            let reformat = try fixture.workspace.commit("Reformat new-checkout")
            try await serve.waitUntilApplied(reformat)

            // An invalid commit (a misspelt key) that would switch the flag off: rejected, so nothing changes.
            try fixture.workspace.write(
                "flags/production/new-checkout.json",
                #"{"active": false, "baseSate": true, "rules": [[{"type": "everybody"}]]}"#
            )
            let invalid = try fixture.workspace.commit("Break new-checkout")
            try await serve.waitUntilRejected(invalid)
            #expect(try await serve.status()["commit"] as? String == reformat)

            // The fix restores what is served, so the next good commit is no change either (diffed against the
            // applied snapshot, not against the rejected parent).
            try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
            let fix = try fixture.workspace.commit("Fix new-checkout")
            try await serve.waitUntilApplied(fix)

            try await Self.sleepToProveNoCallArrives()
            #expect(receiver.calls.isEmpty, "calls: \(receiver.calls.map { String(decoding: $0.body, as: UTF8.self) })")

            // The same pipeline does call for a real change, so the silence above is not a broken deliverer.
            try fixture.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
            let change = try fixture.workspace.commit("Switch new-checkout off")
            try await eventually("the real change is delivered\n\(serve.log)", timeout: .seconds(15), retrying: ServeError.meansNotYet) {
                !receiver.calls.isEmpty
            }
            try await Self.sleepToProveNoCallArrives(for: .milliseconds(300))
            let calls = receiver.calls
            try #require(calls.count == 1)
            try self.expectValidSignature(calls[0])
            try self.expectBody(calls[0], commit: change, previousCommit: fix, changed: ["new-checkout"], base: serve.baseURL)
        }
    }

    // MARK: - Helpers

    func expectValidSignature(_ call: WebhookReceiver.Call, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let id = try #require(call.headers["webhook-id"], sourceLocation: sourceLocation)
        let timestampText = try #require(call.headers["webhook-timestamp"], sourceLocation: sourceLocation)
        let timestamp = try #require(Int(timestampText), sourceLocation: sourceLocation)
        #expect(abs(Date().timeIntervalSince1970 - Double(timestamp)) < 300, "webhook-timestamp is now", sourceLocation: sourceLocation)
        let expected = try WebhookSigner(secret: ServeFixture.secret).signature(id: id, timestamp: timestamp, body: call.body)
        #expect(call.headers["webhook-signature"] == expected, sourceLocation: sourceLocation)
        #expect(call.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        #expect(call.headers["content-length"] == String(call.body.count), sourceLocation: sourceLocation)
    }

    /// Checks the DESIGN §7 body of a `flags.changed` message for production.
    func expectBody(
        _ call: WebhookReceiver.Call,
        commit: String,
        previousCommit: String,
        changed: [String],
        base: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let json = try #require(call.json, "the body is a JSON object", sourceLocation: sourceLocation)
        #expect(json["type"] as? String == "flags.changed", sourceLocation: sourceLocation)
        let timestamp = try #require(json["timestamp"] as? String, sourceLocation: sourceLocation)
        #expect((try? Date(timestamp, strategy: .iso8601)) != nil, "timestamp \(timestamp) is ISO 8601", sourceLocation: sourceLocation)
        let data = try #require(json["data"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(data["environment"] as? String == "production", sourceLocation: sourceLocation)
        #expect(data["commit"] as? String == commit, sourceLocation: sourceLocation)
        #expect(data["previousCommit"] as? String == previousCommit, sourceLocation: sourceLocation)
        #expect(data["added"] as? [String] == [], sourceLocation: sourceLocation)
        #expect(data["removed"] as? [String] == [], sourceLocation: sourceLocation)
        #expect(data["changed"] as? [String] == changed, sourceLocation: sourceLocation)
        #expect(data["flagsUrl"] as? String == base + "/v1/environments/production/flags", sourceLocation: sourceLocation)
    }

    /// The id of the config file's subscription, read through the admin API.
    func subscriptionID(_ serve: HalyardServeProcess) async throws -> String {
        let list = try await ServeHTTP.getJSON(serve.baseURL + "/v1/subscriptions", bearer: "test-admin-token")
        let subscriptions = try #require(list["subscriptions"] as? [[String: Any]])
        try #require(subscriptions.count == 1)
        return try #require(subscriptions[0]["id"] as? String)
    }

    /// `GET /v1/subscriptions/{id}/deliveries`.
    func deliveries(_ serve: HalyardServeProcess, _ subscriptionID: String) async throws -> [[String: Any]] {
        let log = try await ServeHTTP.getJSON(serve.baseURL + "/v1/subscriptions/\(subscriptionID)/deliveries", bearer: "test-admin-token")
        return try #require(log["deliveries"] as? [[String: Any]])
    }
}
