//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import HalyardTesting
import Testing

@testable import HalyardNotify
@testable import HalyardSync

/// The publication loop of a replica on PostgreSQL (DESIGN §10), against a real store.
struct PublicationLoopTests {
    /// A replica keeps the first commit it served for a first publication, since it may take the lock over before
    /// anything is published. One that does not hold the lock must still let that snapshot go once it sees a
    /// publication, or every such replica holds a second snapshot for good.
    @Test func aReplicaThatDoesNotPublishLetsItsFirstServedSnapshotGoOnceSomethingIsPublished() async throws {
        try await StoreHarness.with(.postgres) { harness in
            let publisher = try #require(try await harness.open() as? PostgresStateStore)
            let replica = try #require(try await harness.open() as? PostgresStateStore)
            #expect(try await publisher.acquirePublisherLock())
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-publication-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let loop = PublicationLoop(
                store: replica,
                worker: GitWorker(configuration: WatcherConfiguration(source: .local(path: directory), dataDirectory: directory)),
                lockRetry: .milliseconds(20),
                backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(100), jitter: .equal),
                logger: Fixtures.logger,
                requestFetch: {}
            )
            let snapshot = Snapshot(commit: "c1", flagsDirectory: "flags", environments: [:], files: .none)
            loop.offer(PublicationLoop.Candidate(snapshot: snapshot, commit: "c1", fetchedAt: harness.clock.now()))
            #expect(loop.keepsFirstServed)
            let running = Task { await loop.run() }
            defer { running.cancel() }

            // Nothing is published yet: the replica keeps it (the lock could come to it).
            #expect(try await replica.appliedState() == nil)
            #expect(loop.keepsFirstServed)
            let result = try await publisher.publish(
                AppliedState(commit: "c1", appliedAt: harness.clock.now(), lastChange: [:]),
                replacing: nil,
                changes: [],
                fetchedAt: harness.clock.now()
            )
            guard case .published = result else {
                Issue.record("the publisher could not publish: \(result)")
                return
            }
            try await eventually("the replica lets its first served snapshot go") { !loop.keepsFirstServed }
        }
    }
}
