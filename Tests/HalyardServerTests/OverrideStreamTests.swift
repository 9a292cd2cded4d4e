//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardTesting
import Testing

/// Overrides change what an environment serves at one commit, and SSE clients hear of every such change: the live
/// stream, and a client that reconnects with `Last-Event-ID` (DESIGN §14, ``StreamEventID``).
@Suite(.serialized) struct OverrideStreamTests {
    private static let stream = "/v1/environments/production/stream"
    private static let auth = ("Authorization", "Bearer read-token")

    /// Creating and then ending an override at one commit are two events with two ids. Before the ids were marked, the
    /// end had the same id (the commit) as the start and was skipped as already sent.
    @Test func aConnectedStreamHearsAnOverrideBeginAndEnd() async throws {
        let harness = try await OverrideHarness.start()
        let served = try await harness.running()
        let port = try #require(URL(string: served.baseURL)?.port)
        let reader = EventStreamReader(port: port, path: Self.stream, headers: [Self.auth])
        try await reader.waitUntilConnected()

        let id = try await Self.createOverride(harness, on: served)
        let began = try await reader.waitForEvents(1)
        #expect(began[0].data["changed"] as? [String] == ["new-checkout"])
        #expect(began[0].data["commit"] as? String == harness.initialCommit)
        #expect(began[0].id.hasPrefix(harness.initialCommit + "."))

        let ended = try await harness.call(.DELETE, "/v1/overrides/\(id)", on: served)
        #expect(ended.status == 200, "\(ended.text)")
        let events = try await reader.waitForEvents(2)
        #expect(events[1].data["changed"] as? [String] == ["new-checkout"])
        #expect(events[1].id == harness.initialCommit)

        reader.close()
        await served.stop()
        await harness.stop()
    }

    /// A client that saw the commit before an override, or the override before it ended, is caught up when it
    /// reconnects; one that saw the current state is not.
    @Test func aReconnectingStreamIsCaughtUpOnOverrides() async throws {
        let harness = try await OverrideHarness.start()
        let served = try await harness.running()
        let port = try #require(URL(string: served.baseURL)?.port)
        let id = try await Self.createOverride(harness, on: served)
        _ = try await harness.waitForMessage(1)

        // It saw the commit as committed; an override began since.
        let beforeOverride = EventStreamReader(port: port, path: Self.stream, headers: [Self.auth, ("Last-Event-ID", harness.initialCommit)])
        let caughtUp = try await beforeOverride.waitForEvents(1)
        #expect(caughtUp[0].data["changed"] as? [String] == ["dark-mode", "layout", "new-checkout"])
        let overriddenID = caughtUp[0].id
        #expect(overriddenID.hasPrefix(harness.initialCommit + "."))
        beforeOverride.close()

        // It saw the override: nothing to catch up.
        let current = EventStreamReader(port: port, path: Self.stream, headers: [Self.auth, ("Last-Event-ID", overriddenID)])
        try await current.waitUntilConnected()
        #expect(current.events.isEmpty)
        current.close()

        // It saw the override, which has ended since.
        let ended = try await harness.call(.DELETE, "/v1/overrides/\(id)", on: served)
        #expect(ended.status == 200, "\(ended.text)")
        _ = try await harness.waitForMessage(2)
        let afterEnd = EventStreamReader(port: port, path: Self.stream, headers: [Self.auth, ("Last-Event-ID", overriddenID)])
        let again = try await afterEnd.waitForEvents(1)
        #expect(again[0].id == harness.initialCommit)
        #expect((again[0].data["changed"] as? [String])?.contains("new-checkout") == true)
        afterEnd.close()

        await served.stop()
        await harness.stop()
    }

    private static func createOverride(_ harness: OverrideHarness, on served: OverrideHarness.Served) async throws -> String {
        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: served,
            body: ["environment": "production", "flag": "new-checkout", "active": false, "reason": "incident 42", "expiresIn": "1h"]
        )
        #expect(created.status == 201, "\(created.text)")
        return try #require(created.json["id"] as? String)
    }
}
