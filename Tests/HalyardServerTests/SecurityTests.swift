//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import HalyardServer

/// DESIGN §13 through the real router: the status behind read auth, bounded rejection diagnostics, replayed push hooks.
struct SecurityTests {
    @Test func testTheStatusIsAReadRouteWhenReadTokensAreSet() async throws {
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(adminToken: "admin-token-0123456789", readTokens: ["reader-token-0123456789"])
        )
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.json["commit"] == nil)
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: .bearer("wrong-token")) { response in
                #expect(response.status == .unauthorized)
            }
            for headers: HTTPFields in [
                .bearer("reader-token-0123456789"), [.init("X-API-Key")!: "reader-token-0123456789"],
                .bearer("admin-token-0123456789"),
            ] {
                try await client.execute(uri: "/v1/status", method: .get, headers: headers) { response in
                    #expect(response.status == .ok, "\(headers)")
                    #expect(response.json["commit"] as? String != nil)
                }
            }
            // Liveness and readiness stay open and name no token.
            for open in ["/healthz", "/readyz"] {
                try await client.execute(uri: open, method: .get) { response in
                    #expect(response.status == .ok, "\(open)")
                    #expect(!response.text.contains("token"), "\(open): \(response.text)")
                }
            }
        }
    }

    @Test func testTheStatusStaysOpenWithoutReadTokens() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func testARejectedCommitShowsTheFirstHundredErrorsAndTheirCount() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            for index in 0..<150 {
                try fixture.repository.write("flags/production/broken-\(index).json", "{ not json")
            }
            let rejected = try fixture.repository.commit("150 broken flags")
            try await fixture.waitUntilRejected(rejected)
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let rejection = response.json["rejected"] as? [String: Any]
                #expect(rejection?["commit"] as? String == rejected)
                #expect((rejection?["errors"] as? [Any])?.count == 100)
                #expect(rejection?["errorCount"] as? Int == 150)
            }
            #expect(fixture.store.status.rejected?.errors.count == Rejection.maximumErrors)
        }
    }

    @Test func testAReplayedGitHubHookIsAcknowledgedWithoutAFetch() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let body = #"{"ref": "refs/heads/main"}"#
            func hook(delivery: String?) -> HTTPFields {
                var headers: HTTPFields = [.init("X-Hub-Signature-256")!: AuthTests.githubSignature(body, secret: "hook-secret")]
                if let delivery { headers[.init("X-GitHub-Delivery")!] = delivery }
                return headers
            }
            let first = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: hook(delivery: first), body: .string(body)) {
                #expect($0.status == .accepted)
                #expect($0.json["status"] as? String == "refresh requested")
            }
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: hook(delivery: first), body: .string(body)) {
                #expect($0.status == .accepted)
                #expect($0.json["status"] as? String == "duplicate delivery ignored")
            }
            #expect(fixture.refreshes.value == 1)
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: hook(delivery: "another-delivery"), body: .string(body)) {
                #expect($0.status == .accepted)
            }
            #expect(fixture.refreshes.value == 2)
            // A hook without a delivery id cannot be recognised as a replay: each one fetches.
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/hooks/git", method: .post, headers: hook(delivery: nil), body: .string(body)) {
                    #expect($0.status == .accepted)
                }
            }
            #expect(fixture.refreshes.value == 4)
        }
    }

    @Test func testAReplayedGitLabHookIsAcknowledgedWithoutAFetch() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let event = HTTPField.Name("X-Gitlab-Event-UUID")!
            let token = HTTPField.Name("X-Gitlab-Token")!
            for _ in 0..<3 {
                try await client.execute(
                    uri: "/v1/hooks/git",
                    method: .post,
                    headers: [token: "hook-secret", event: "13792a34-cac6-4fda-95a8-c58e00a3954e"],
                    body: .string("{}")
                ) {
                    #expect($0.status == .accepted)
                }
            }
            #expect(fixture.refreshes.value == 1)
            // A forged hook (wrong token) with a fresh id is refused and does not use up that id.
            let fresh = "8c1b2a7e-0f7a-4b55-9c2b-0d5c1f0e3a11"
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [token: "forged", event: fresh], body: .string("{}")) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [token: "hook-secret", event: fresh], body: .string("{}")) {
                #expect($0.json["status"] as? String == "refresh requested")
            }
            #expect(fixture.refreshes.value == 2)
        }
    }

    @Test func testDeliveryIDsAreForgottenAfterTheWindow() {
        let clock = ManualInstant()
        let deliveries = RecentHookDeliveries(window: .seconds(3600), capacity: 10, now: { clock.now })
        #expect(deliveries.isFirstSighting(of: "a"))
        clock.advance(by: .seconds(3599))
        #expect(!deliveries.isFirstSighting(of: "a"))
        clock.advance(by: .seconds(1))
        #expect(deliveries.isFirstSighting(of: "a"))
        #expect(deliveries.count == 1)
    }

    @Test func testDeliveryIDsAreCappedDroppingTheOldest() {
        let clock = ManualInstant()
        let deliveries = RecentHookDeliveries(window: .seconds(3600), capacity: 1_000, now: { clock.now })
        for index in 0..<5_000 {
            #expect(deliveries.isFirstSighting(of: "delivery-\(index)"))
            clock.advance(by: .milliseconds(1))
        }
        #expect(deliveries.count == 1_000)
        // The oldest were dropped, so they count as new; the newest are still remembered.
        #expect(deliveries.isFirstSighting(of: "delivery-0"))
        #expect(!deliveries.isFirstSighting(of: "delivery-4999"))
        #expect(deliveries.count == 1_000)
        // An absurdly long id is not remembered (and so never fills memory).
        let long = String(repeating: "x", count: RecentHookDeliveries.maximumIDLength + 1)
        #expect(deliveries.isFirstSighting(of: long))
        #expect(deliveries.isFirstSighting(of: long))
    }
}

/// A clock instant the test moves by hand.
final class ManualInstant: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}
