//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import HalyardTesting
import Testing

@testable import HalyardNotify

/// What both state stores promise about break-glass overrides (DESIGN §14): one open override per flag, an end that
/// happens once, ended overrides kept for the audit list, and the overrides published with the applied commit.
@Suite struct OverrideStoreTests {
    func override(_ flag: String, at seconds: TimeInterval, _ setting: FlagOverride.Setting = .active(false)) -> FlagOverride {
        FlagOverride(
            environment: "production",
            flag: flag,
            setting: setting,
            reason: "incident \(flag)",
            createdAt: Date(timeIntervalSince1970: 1_795_000_000 + seconds),
            expiresAt: Date(timeIntervalSince1970: 1_795_003_600 + seconds),
            baseCommit: "c1",
            baseFingerprint: "f-\(flag)"
        )
    }

    @Test(arguments: StoreKind.allCases)
    func oneOpenOverridePerFlagEndedOnceAndKeptForTheAudit(kind: StoreKind) async throws {
        try await StoreHarness.with(kind) { harness in
            let store = try #require(try await harness.open() as? any OverrideStore)
            let first = override("new-checkout", at: 0)
            #expect(try await store.createOverride(first) == nil)
            let second = override("layout", at: 1, .variant("compact"))
            #expect(try await store.createOverride(second) == nil)
            #expect(try await store.createOverride(override("new-checkout", at: 2, .active(true))) == first)
            #expect(try await store.openOverrides() == [first, second])

            let endedAt = Date(timeIntervalSince1970: 1_795_000_100)
            let ended = try #require(try await store.endOverride(id: first.id, reason: OverrideEnd.deleted, at: endedAt))
            #expect(ended.endedAt == endedAt)
            #expect(ended.endReason == "deleted")
            let again = try await store.endOverride(id: first.id, reason: OverrideEnd.expired, at: endedAt.addingTimeInterval(5))
            #expect(again == ended)
            #expect(try await store.endOverride(id: "ovr_unknown", reason: OverrideEnd.deleted, at: endedAt) == nil)

            // A restarted service (another instance) sees the same.
            let reopened = try #require(try await harness.open() as? any OverrideStore)
            #expect(try await reopened.openOverrides() == [second])
            #expect(try await reopened.allOverrides(limit: 10) == [second, ended])
            #expect(try await reopened.overrides(ids: [first.id]) == [ended])
            let third = override("new-checkout", at: 3, .active(true))
            #expect(try await reopened.createOverride(third) == nil)
        }
    }

    @Test func theAppliedStateKeepsItsOverridesThroughARestart() async throws {
        try await StoreHarness.with(.sqlite) { harness in
            let state = AppliedState(
                commit: "c2",
                appliedAt: Date(timeIntervalSince1970: 1_795_000_000),
                lastChange: ["production": "c2"],
                overrides: ["ovr_0000000000000001", "ovr_0000000000000002"]
            )
            try await harness.open().recordApplied(state, changes: [], fetchedAt: harness.clock.now())
            #expect(try await harness.open().appliedState() == state)
        }
    }

    @Test func thePublishedStateKeepsItsOverrides() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let publisher = try #require(try await harness.open() as? PostgresStateStore)
            #expect(try await publisher.acquirePublisherLock())
            let state = AppliedState(
                commit: "c2",
                appliedAt: Date(timeIntervalSince1970: 1_795_000_000),
                lastChange: ["production": "c2"],
                overrides: ["ovr_0000000000000001"]
            )
            #expect(try await publisher.publish(state, replacing: nil, changes: [], fetchedAt: harness.clock.now()) == .published(0))
            #expect(try await harness.open().appliedState() == state)
        }
    }
}
