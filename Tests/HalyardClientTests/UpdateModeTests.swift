//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardClient
import HalyardNotify
import HalyardRules
import HalyardTesting
import Testing

/// Each update mode brings a committed change into the client.
struct UpdateModeTests {
    static let enterprise: EvaluationContext = ["plan": "enterprise", "userId": "u-1", "customer": "Acme"]

    @Test func testStreamModeSeesACommit() async throws {
        let halyard = try await HalyardFixture()
        // No fallback polling: only the stream can bring the change.
        let running = try RunningClient.start(
            HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", streamFallbackPollInterval: .seconds(3600)))
        try await running.waitFor(halyard.service.store.current!.commit)
        var changes = running.client.changes.makeAsyncIterator()
        #expect(running.client.bool("static-off", default: true) == false)

        let commit = try await halyard.commit(["flags/production/static-off.json": ClientFlagFiles.everybody(true)], message: "on for everybody")
        try await running.waitFor(commit)
        #expect(running.client.bool("static-off", default: false) == true)
        let change = await changes.next()
        #expect(change == FlagChange(environment: "production", commit: commit, previousCommit: change?.previousCommit, added: [], removed: [], changed: ["static-off"]))
        #expect(change?.previousCommit != commit)
        await running.stop()
        await halyard.destroy()
    }

    @Test func testPollModeSeesACommit() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(
            HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", updateMode: .poll(interval: .milliseconds(50))))
        try await running.waitFor(halyard.service.store.current!.commit)
        let commit = try await halyard.commit(["flags/production/added.json": ClientFlagFiles.everybody(true)], message: "add a flag")
        try await running.waitFor(commit)
        #expect(running.client.boolDetails("added", default: false).reason == .targetingMatch)
        await running.stop()
        await halyard.destroy()
    }

    @Test func testWebhookModeSeesACommitThroughTheHummingbirdRoute() async throws {
        let halyard = try await HalyardFixture()
        let secret = WebhookSigner.generateSecret()
        let running = try RunningClient.start(
            HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", updateMode: .webhook, webhookSecrets: [secret]))
        let app = try await RefreshApp.start(client: running.client)
        try halyard.service.database.replaceStaticSubscriptions([StaticSubscription(url: app.url, environments: ["production"], secret: secret)])
        try await running.waitFor(halyard.service.store.current!.commit)

        let commit = try await halyard.commit(["flags/production/legacy-search.json": ClientFlagFiles.everybody(false)], message: "legacy off")
        try await running.waitFor(commit)
        #expect(running.client.boolDetails("legacy-search", default: true) == FlagDetails(
            flagID: "legacy-search", value: false, variant: "off", reason: .staticValue, errorCode: nil))
        await app.stop()
        await running.stop()
        await halyard.destroy()
    }
}
