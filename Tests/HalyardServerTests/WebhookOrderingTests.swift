//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HalyardServer
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import HalyardNotify

/// A webhook is sent only once the commit it names is served (DESIGN §7, issue 9 point 9).
struct WebhookOrderingTests {
    @Test func testReceiverFetchingOnReceiptGetsTheCommitNamed() async throws {
        let webhookClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: WebhookDeliverer.httpClientConfiguration())
        do {
            try await self.checkOrdering(using: webhookClient)
        } catch {
            try? await webhookClient.shutdown()
            throw error
        }
        try await webhookClient.shutdown()
    }

    private func checkOrdering(using webhookClient: HTTPClient) async throws {
        let fixture = try ServerFixture(webhookClient: webhookClient)
        let deliverer = try #require(fixture.deliverer)
        let store = fixture.store
        // The watcher writes the outbox, then swaps the store. Widen that window: as soon as the outbox is written, wake
        // the deliverer and hold the watcher for half a second before it may swap.
        let observer = fixture.database.addEnqueueObserver {
            deliverer.wake()
            Thread.sleep(forTimeInterval: 0.5)
        }
        defer { fixture.database.removeEnqueueObserver(observer) }

        // On receipt, the receiver looks at what the service serves, as a subscriber fetching flagsUrl would.
        let seen = Mutex<[(named: String, served: String?)]>([])
        let receiver = try await TestReceiver.start { request, _ in
            let named = (request.json?["data"] as? [String: Any])?["commit"] as? String ?? ""
            let served = store.current?.commit
            seen.withLock { $0.append((named, served)) }
            return .ok
        }
        do {
            try await self.checkOrdering(fixture: fixture, receiver: receiver, seen: seen)
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    private func checkOrdering(
        fixture: ServerFixture,
        receiver: TestReceiver,
        seen: borrowing Mutex<[(named: String, served: String?)]>
    ) async throws {
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let created = try await client.execute(
                uri: "/v1/subscriptions",
                method: .post,
                headers: .bearer("admin-secret"),
                body: .string(#"{"url": "\#(receiver.url())", "environments": ["production"]}"#)
            )
            #expect(created.status == .created)

            try fixture.repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let commit = try fixture.repository.commit("dark mode off")
            try await eventually("the webhook arrives") { !seen.withLock { $0.isEmpty } }
            let first = try #require(seen.withLock { $0.first })
            #expect(first.named == commit)
            #expect(first.served == commit)
        }
    }
}
