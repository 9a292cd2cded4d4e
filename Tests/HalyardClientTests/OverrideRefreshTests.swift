//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardClient
import HalyardNotify
import HalyardSync
import HalyardTesting
import Testing

/// A break-glass override changes the flags at the served commit, and is published with that commit as both `commit`
/// and `previousCommit`: a client that has that commit must still fetch.
struct OverrideRefreshTests {
    @Test func aRefreshCallAboutTheCommitTheClientHasFetchesTheOverride() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(
            HalyardClientConfiguration(
                baseURL: halyard.baseURL,
                environment: "production",
                updateMode: .webhook,
                webhookSecrets: [RefreshCallTests.secret]
            )
        )
        let commit = halyard.service.store.current!.commit
        try await running.waitFor(commit)
        #expect(running.client.bool("maintenance", default: false) == true)

        _ = try await halyard.service.watcher.createOverride(
            environment: "production",
            flag: "maintenance",
            setting: .active(true),
            reason: "test",
            expiresIn: OverrideDuration("1h")!
        )
        let body = Array(
            #"{"type":"flags.changed","timestamp":"2026-01-01T00:00:00Z","data":{"environment":"production","commit":"\#(commit)","previousCommit":"\#(commit)","added":[],"removed":[],"changed":["maintenance"],"flagsUrl":"/v1/environments/production/flags"}}"#
                .utf8
        )
        #expect(await running.client.handleRefreshCall(try RefreshCallTests.call(body)) == .accepted)
        #expect(running.client.flagSet?.commit == commit)
        #expect(running.client.bool("maintenance", default: true) == false)
        await running.stop()
        await halyard.destroy()
    }

    @Test func aStreamEventAboutTheCommitTheClientHasFetchesTheOverride() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", updateMode: .stream))
        let commit = halyard.service.store.current!.commit
        try await running.waitFor(commit)
        #expect(running.client.bool("maintenance", default: false) == true)
        // The stream is connected when the hub has a client: only then is the event sure to reach it.
        try await eventually("the stream is connected") { halyard.service.events.clientCount > 0 }

        _ = try await halyard.service.watcher.createOverride(
            environment: "production",
            flag: "maintenance",
            setting: .active(true),
            reason: "test",
            expiresIn: OverrideDuration("1h")!
        )
        try await eventually("the client serves the override") { running.client.bool("maintenance", default: true) == false }
        #expect(running.client.flagSet?.commit == commit)
        await running.stop()
        await halyard.destroy()
    }
}
