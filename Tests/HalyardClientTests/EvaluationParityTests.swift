//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import HalyardClient
import HalyardRules
import HalyardTesting
import NIOCore
import Testing

/// The client evaluates every flag as the server does: same value, variant and reason.
struct EvaluationParityTests {
    /// Contexts mixing the attributes the seed flags test, with values of every type, some missing.
    static func contexts(count: Int) -> [[String: JSONValue]] {
        var generator = SplitMix64(seed: 0x5eed)
        let customers: [JSONValue?] = ["Disney", "Pop Tarts", "disney", "Acme", nil]
        let plans: [JSONValue?] = ["enterprise", "pro", "free", "Enterprise", nil, 3]
        let accounts: [JSONValue?] = [1001, 1005, "1002", 1003.0, nil]
        let platforms: [JSONValue?] = ["ios", "android", "IOS", nil]
        let versions: [JSONValue?] = [4, 5, "6", 5.5, "x", nil]
        let countries: [JSONValue?] = ["NL", "BE", "DE", "nl", nil, .array(["NL"])]
        func pick(_ values: [JSONValue?]) -> JSONValue? { values[Int(generator.next() % UInt64(values.count))] }
        return (0..<count).map { index in
            var attributes: [String: JSONValue] = [:]
            attributes["customer"] = pick(customers)
            attributes["plan"] = pick(plans)
            attributes["accountId"] = pick(accounts)
            attributes["platform"] = pick(platforms)
            attributes["appVersion"] = pick(versions)
            attributes["country"] = pick(countries)
            if generator.next() % 10 != 0 {
                attributes["userId"] = generator.next() % 2 == 0 ? .string("user-\(index)") : .number(JSONNumber(Double(index)))
            }
            return attributes
        }
    }

    @Test func testSameValueVariantAndReasonAsTheServerForEveryFlag() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production"))
        try await running.client.waitUntilReady(timeout: .seconds(20))
        let ids = try #require(running.client.flagSet?.sortedIDs)
        #expect(ids.count == 8)
        var compared = 0
        for attributes in Self.contexts(count: 3000) {
            let context = EvaluationContext(attributes)
            for id in ids {
                let server = try #require(halyard.serverEvaluation(id, context: context))
                let client = running.client.valueDetails(id, default: .null, context: context)
                #expect(client.value == server.value, "\(id) for \(attributes)")
                #expect(client.variant == server.variant, "\(id) for \(attributes)")
                #expect(client.reason.rawValue == server.reason.rawValue, "\(id) for \(attributes)")
                #expect(client.errorCode == nil)
                compared += 1
            }
        }
        #expect(compared == 24_000)
        await running.stop()
        await halyard.destroy()
    }

    /// The `/evaluate` route with `"details": true`, over a few thousand contexts: every flag's value, variant and reason
    /// as the client gives them. Requests go a few at a time, to keep the test short.
    @Test func testSameValueVariantAndReasonAsTheEvaluateRouteWithDetails() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production"))
        try await running.client.waitUntilReady(timeout: .seconds(20))
        let ids = try #require(running.client.flagSet?.sortedIDs)
        let contexts = Self.contexts(count: 3000)
        let concurrency = 8
        let compared = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<concurrency {
                group.addTask {
                    var compared = 0
                    for index in stride(from: lane, to: contexts.count, by: concurrency) {
                        compared += try await Self.compareWithRoute(contexts[index], ids: ids, baseURL: halyard.baseURL, client: running.client)
                    }
                    return compared
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(compared == contexts.count * ids.count)
        await running.stop()
        await halyard.destroy()
    }

    /// Posts one context to `/evaluate` with details and checks every served flag against the client's details;
    /// returns the number of flags compared.
    static func compareWithRoute(_ attributes: [String: JSONValue], ids: [String], baseURL: String, client: HalyardClient) async throws -> Int {
        var json = JSONWriter()
        json.objectStart()
        json.key("context")
        json.json(.object(attributes))
        json.key("details")
        json.bool(true)
        json.objectEnd()
        var request = HTTPClientRequest(url: baseURL + "/v1/environments/production/evaluate")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(json.bytes)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 1 << 20)
        let served = try #require(try JSONValue.parse(Array(buffer: body))["flags"]?.objectValue)
        #expect(served.keys.sorted() == ids)
        let local = client.allFlags(context: EvaluationContext(attributes))
        var compared = 0
        for id in ids {
            let server = try #require(served[id]?.objectValue, "\(id) for \(attributes)")
            let details = try #require(local[id], "\(id) for \(attributes)")
            #expect(details.value.jsonText == server["value"]?.jsonText, "\(id) for \(attributes)")
            #expect(details.variant == server["variant"]?.stringValue, "\(id) for \(attributes)")
            #expect(details.reason.rawValue == server["reason"]?.stringValue, "\(id) for \(attributes)")
            #expect(details.errorCode == nil, "\(id) for \(attributes)")
            compared += 1
        }
        return compared
    }
}

/// A small seeded generator, so a failing context can be found again.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
