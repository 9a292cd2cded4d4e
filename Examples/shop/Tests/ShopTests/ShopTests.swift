//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardClient
import HalyardRules
import Hummingbird
import HummingbirdTesting
import ShopApp
import Testing

struct ShopTests {
    @Test func testQueryParametersAreParsedAsHalyardEvalAttributes() {
        let context = Shop.context([("userId", "u-1"), ("age", "37"), ("beta", "true"), ("list", "[1]"), ("none", "null")])
        #expect(context.attributes["userId"] == "u-1")
        #expect(context.attributes["age"] == 37)
        #expect(context.attributes["beta"] == true)
        #expect(context.attributes["list"] == "[1]")
    }

    @Test func testWithoutHalyardThePageServesTheDefaultsAndRefreshCallsNeedASignature() async throws {
        let flags = try HalyardClient(
            configuration: HalyardClientConfiguration(
                baseURL: "http://127.0.0.1:9", environment: "production", updateMode: .webhook,
                webhookSecrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]))
        let app = Application(router: Shop.router(flags: flags))
        try await app.test(.router) { client in
            try await client.execute(uri: "/?userId=u-1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Layout: classic"))
            }
            try await client.execute(uri: "/flags?plan=enterprise", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"flags":{}}"#)
            }
            try await client.execute(uri: "/hooks/flags", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
