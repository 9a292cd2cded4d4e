//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HalyardNotify
import HalyardServer
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

struct SubscriptionTests {
    let admin = HTTPFields.bearer("admin-secret")

    @Test func testSubscriptionRoutesNeedTheAdminToken() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let routes: [(String, HTTPRequest.Method)] = [
                ("/v1/subscriptions", .get), ("/v1/subscriptions", .post), ("/v1/subscriptions/sub_1", .get),
                ("/v1/subscriptions/sub_1", .delete), ("/v1/subscriptions/sub_1/deliveries", .get),
            ]
            for (uri, method) in routes {
                try await client.execute(uri: uri, method: method, body: .string(#"{"url": "http://a.test/", "environments": ["production"]}"#)) {
                    #expect($0.status == .unauthorized, "\(method) \(uri)")
                }
                try await client.execute(uri: uri, method: method, headers: .bearer("nope")) {
                    #expect($0.status == .unauthorized, "\(method) \(uri)")
                }
            }
            try await client.execute(uri: "/v1/subscriptions", method: .get, headers: admin) {
                #expect($0.status == .ok)
                #expect($0.text == #"{"subscriptions":[]}"#)
            }
        }
    }

    @Test func testCreateListGetDeliveriesDelete() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let body = #"{"url": "https://app.example.com/hooks/halyard", "environments": ["production", "staging"]}"#
            let created = try await client.execute(uri: "/v1/subscriptions", method: .post, headers: admin, body: .string(body))
            #expect(created.status == .created)
            let json = created.json
            let id = try #require(json["id"] as? String)
            #expect(id.hasPrefix("sub_"))
            #expect(created.headers[.location] == "/v1/subscriptions/\(id)")
            #expect(json["url"] as? String == "https://app.example.com/hooks/halyard")
            #expect(json["environments"] as? [String] == ["production", "staging"])
            #expect((json["secret"] as? String)?.hasPrefix("whsec_") == true)
            #expect((json["createdAt"] as? String)?.hasSuffix("Z") == true)

            try await client.execute(uri: "/v1/subscriptions", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
                let list = response.json["subscriptions"] as? [[String: Any]] ?? []
                #expect(list.count == 1)
                #expect(list.first?["id"] as? String == id)
                #expect(list.first?["secret"] == nil)
                #expect(list.first?["static"] as? Bool == false)
                #expect(list.first?["disabled"] as? Bool == false)
            }
            try await client.execute(uri: "/v1/subscriptions/\(id)", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
                #expect(response.json["id"] as? String == id)
                #expect(response.json["secret"] == nil)
                #expect(response.json["environments"] as? [String] == ["production", "staging"])
            }
            try await client.execute(uri: "/v1/subscriptions/\(id)/deliveries", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"deliveries":[]}"#)
            }
            try await client.execute(uri: "/v1/subscriptions/\(id)", method: .delete, headers: admin) { response in
                #expect(response.status == .noContent)
                #expect(response.body.readableBytes == 0)
            }
            for uri in ["/v1/subscriptions/\(id)", "/v1/subscriptions/\(id)/deliveries"] {
                try await client.execute(uri: uri, method: .get, headers: admin) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(response.error?.contains(id) == true)
                }
            }
            try await client.execute(uri: "/v1/subscriptions/\(id)", method: .delete, headers: admin) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func testStaticSubscriptionsAreReadOnly() async throws {
        let fixture = try ServerFixture()
        let secret = "whsec_" + Data((0..<24).map { UInt8($0) }).base64EncodedString()
        try fixture.database.replaceStaticSubscriptions([
            StaticSubscription(url: "http://127.0.0.1:9/hook", environments: ["production"], secret: secret)
        ])
        try await fixture.application().test(.router) { client in
            let list = try await client.execute(uri: "/v1/subscriptions", method: .get, headers: admin)
            let entry = try #require((list.json["subscriptions"] as? [[String: Any]])?.first)
            #expect(entry["static"] as? Bool == true)
            #expect(entry["secret"] == nil)
            let id = try #require(entry["id"] as? String)
            try await client.execute(uri: "/v1/subscriptions/\(id)", method: .delete, headers: admin) { response in
                #expect(response.status == .conflict)
                #expect(response.error?.contains("config file") == true)
            }
        }
    }

    @Test func testCreateValidation() async throws {
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(
                adminToken: "admin-secret",
                subscriptionPolicy: SubscriptionPolicy(allowedHosts: ["*.example.com"])
            )
        )
        try await fixture.application().test(.router) { client in
            let cases: [String] = [
                "",
                "{nope",
                "[]",
                #"{"environments": ["production"]}"#,
                #"{"url": 42, "environments": ["production"]}"#,
                #"{"url": "https://a.example.com/"}"#,
                #"{"url": "https://a.example.com/", "environments": "production"}"#,
                #"{"url": "https://a.example.com/", "environments": [1]}"#,
                #"{"url": "https://a.example.com/", "environments": []}"#,
                #"{"url": "https://a.example.com/", "environments": ["Not Valid"]}"#,
                #"{"url": "ftp://a.example.com/", "environments": ["production"]}"#,
                #"{"url": "not a url", "environments": ["production"]}"#,
                #"{"url": "https://evil.test/", "environments": ["production"]}"#,
            ]
            for body in cases {
                try await client.execute(uri: "/v1/subscriptions", method: .post, headers: admin, body: .string(body)) { response in
                    #expect(response.status == .badRequest, "\(body) → \(response.text)")
                    #expect(response.error?.isEmpty == false)
                }
            }
            try await client.execute(
                uri: "/v1/subscriptions",
                method: .post,
                headers: admin,
                body: .string(#"{"url": "https://hooks.example.com/x", "environments": ["production"]}"#)
            ) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test func testDeliveriesOfARealWebhook() async throws {
        let receiver = try await TestReceiver.start()
        let webhookClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: WebhookDeliverer.httpClientConfiguration())
        do {
            try await deliverWebhook(to: receiver, using: webhookClient)
        } catch {
            try? await webhookClient.shutdown()
            await receiver.stop()
            throw error
        }
        try await webhookClient.shutdown()
        await receiver.stop()
    }

    private func deliverWebhook(to receiver: TestReceiver, using webhookClient: HTTPClient) async throws {
        let fixture = try ServerFixture(webhookClient: webhookClient)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let created = try await client.execute(
                uri: "/v1/subscriptions",
                method: .post,
                headers: admin,
                body: .string(#"{"url": "\#(receiver.url())", "environments": ["production"]}"#)
            )
            #expect(created.status == .created)
            let id = try #require(created.json["id"] as? String)

            try fixture.repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let commit = try fixture.repository.commit("dark mode off")
            try await eventually("the webhook arrives") { !receiver.requests.isEmpty }
            let message = receiver.requests[0]
            let body = message.bodyString
            #expect(message.headers["webhook-signature"]?.hasPrefix("v1,") == true)
            #expect(body.contains(#""changed":["dark-mode"]"#))
            #expect(body.contains(commit))

            try await eventually("the delivery is logged") {
                let response = try await client.execute(uri: "/v1/subscriptions/\(id)/deliveries", method: .get, headers: admin)
                return !(response.json["deliveries"] as? [Any] ?? []).isEmpty
            }
            try await client.execute(uri: "/v1/subscriptions/\(id)/deliveries", method: .get, headers: admin) { response in
                #expect(response.status == .ok)
                let deliveries = response.json["deliveries"] as? [[String: Any]] ?? []
                #expect(deliveries.count == 1)
                let delivery = deliveries.first ?? [:]
                #expect(delivery["environment"] as? String == "production")
                #expect(delivery["commit"] as? String == commit)
                #expect(delivery["attempt"] as? Int == 1)
                #expect(delivery["status"] as? Int == 204)
                #expect(delivery["result"] as? String == "delivered")
                #expect(delivery["error"] is NSNull)
                #expect((delivery["messageId"] as? String)?.isEmpty == false)
                #expect((delivery["at"] as? String)?.hasSuffix("Z") == true)
                #expect(delivery["durationSeconds"] is Double || delivery["durationSeconds"] is Int)
            }
        }
    }
}
