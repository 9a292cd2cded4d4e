//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardServer
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct HealthTests {
    @Test func testHealthAndReadinessBeforeTheFirstSnapshot() async throws {
        let fixture = try ServerFixture()
        // The router alone, without the watcher: nothing is loaded.
        let app = Application(router: fixture.api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json["status"] as? String == "ok")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.error?.contains("no flags loaded") == true)
            }
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                let json = response.json
                #expect(json["commit"] is NSNull)
                #expect(json["appliedAt"] is NSNull)
                #expect(json["lastFetchAt"] is NSNull)
                #expect(json["lastFetchError"] is NSNull)
                #expect(json["rejected"] == nil)
                #expect((json["environments"] as? [String: Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/environments/production/flags", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.error != nil)
            }
        }
    }

    @Test func testReadinessAndStatusOnceApplied() async throws {
        let fixture = try ServerFixture()
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.json["commit"] as? String == head)
            }
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                let json = response.json
                #expect(json["commit"] as? String == head)
                #expect((json["appliedAt"] as? String)?.hasSuffix("Z") == true)
                #expect(json["lastFetchAt"] is String)
                #expect(json["lastFetchError"] is NSNull)
                #expect(json["rejected"] == nil)
                let environments = json["environments"] as? [String: [String: Any]] ?? [:]
                #expect(Set(environments.keys) == ["production", "staging"])
                #expect(environments["production"]?["flags"] as? Int == 2)
                #expect(environments["staging"]?["flags"] as? Int == 1)
                #expect(environments["production"]?["lastChange"] as? String == head)
                #expect((environments["production"]?["digest"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func testMetricsShowRequestsByRoutePattern() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            _ = try await client.execute(uri: "/v1/environments/production/flags", method: .get)
            _ = try await client.execute(uri: "/v1/environments/staging/flags", method: .get)
            _ = try await client.execute(uri: "/v1/environments/nope/flags", method: .get)
            _ = try await client.execute(uri: "/no/such/path", method: .get)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                #expect(text.contains(#"halyard_http_requests_total{route="/v1/environments/{env}/flags",status="200"} 2"#))
                #expect(text.contains(#"halyard_http_requests_total{route="/v1/environments/{env}/flags",status="404"} 1"#))
                #expect(text.contains(#"halyard_http_requests_total{route="unmatched",status="404"} 1"#))
                #expect(text.contains("halyard_sse_clients 0"))
                #expect(!text.contains("production"))
            }
        }
    }
}
