//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardClient
import HalyardRules
import HalyardTesting
import Testing

/// The typed accessors, their details and the error codes (DESIGN §11).
struct DetailsTests {
    @Test func testTypedAccessorsAndErrorCodes() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production"))
        try await running.client.waitUntilReady(timeout: .seconds(20))
        let client = running.client

        #expect(client.stringDetails("checkout-layout", default: "x", context: ["plan": "enterprise"])
            == FlagDetails(flagID: "checkout-layout", value: "one-page", variant: "one-page", reason: .targetingMatch, errorCode: nil, matchedGroup: 0))
        #expect(client.string("checkout-layout", default: "x") == "classic")
        #expect(client.stringDetails("checkout-layout", default: "x").reason == .default)
        #expect(client.int("discount", default: -1) == 0)
        let pro = client.doubleDetails("discount", default: -1, context: ["plan": "pro", "userId": "u-3"])
        #expect(pro.reason == .split)
        #expect([10, 0.5].contains(pro.value))
        // `0.5` is not an Int: the caller's default, with TYPE_MISMATCH.
        for index in 0..<200 {
            let context: EvaluationContext = ["plan": "pro", "userId": .string("u-\(index)")]
            let details = client.intDetails("discount", default: -1, context: context)
            if client.doubleDetails("discount", default: -1, context: context).value == 0.5 {
                #expect(details == FlagDetails(flagID: "discount", value: -1, variant: nil, reason: .error, errorCode: .typeMismatch))
            } else {
                #expect(details.value == 10 && details.variant == "some")
            }
        }
        let banner = client.object("banner", default: .null, context: ["country": "NL"])
        #expect(banner["text"] == "Sale!")
        #expect(client.objectDetails("checkout-layout", default: [:]).errorCode == .typeMismatch)
        #expect(client.boolDetails("checkout-layout", default: true).errorCode == .typeMismatch)
        #expect(client.bool("checkout-layout", default: true) == true)
        #expect(client.stringDetails("new-checkout", default: "d").errorCode == .typeMismatch)
        #expect(client.boolDetails("missing", default: true)
            == FlagDetails(flagID: "missing", value: true, variant: nil, reason: .error, errorCode: .flagNotFound))
        #expect(client.boolDetails("maintenance", default: false)
            == FlagDetails(flagID: "maintenance", value: true, variant: "off", reason: .disabled, errorCode: nil))
        #expect(client.stringDetails("disabled-typed", default: "").variant == "b")
        #expect(client.boolDetails("static-off", default: true).reason == .staticValue)

        let all = client.allFlags(context: ["customer": "Disney"])
        #expect(all.count == 8)
        #expect(all["new-checkout"]?.value == true)
        #expect(all["new-checkout"]?.variant == "on")
        await running.stop()
        await halyard.destroy()
    }

    @Test func testAClientWithoutFlagsServesDefaultsAsNotReady() async throws {
        let client = try HalyardClient(configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production"))
        #expect(!client.isReady)
        #expect(client.bool("anything", default: true) == true)
        #expect(client.doubleDetails("anything", default: 2.5)
            == FlagDetails(flagID: "anything", value: 2.5, variant: nil, reason: .error, errorCode: .providerNotReady))
        #expect(client.allFlags().isEmpty)
        await #expect(throws: HalyardClientError.self) { try await client.waitUntilReady(timeout: .milliseconds(20)) }
    }

    @Test func testBadConfigurationsAreRefused() {
        #expect(throws: HalyardClientError.self) { try HalyardClient(configuration: .init(baseURL: "127.0.0.1:8080", environment: "production")) }
        #expect(throws: HalyardClientError.self) { try HalyardClient(configuration: .init(baseURL: "http://h", environment: "")) }
        #expect(throws: HalyardClientError.self) { try HalyardClient(configuration: .init(baseURL: "http://h", environment: "p", updateMode: .webhook)) }
        #expect(throws: HalyardClientError.self) {
            try HalyardClient(configuration: .init(baseURL: "http://h", environment: "p", updateMode: .poll(interval: .zero)))
        }
    }
}
