//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardClient
import HalyardRules
import HalyardTesting
import Testing

/// Halyard down, a client restarted while it is down, Halyard back; a bad cache file.
struct ResilienceTests {
    static let disney: EvaluationContext = ["customer": "Disney", "userId": "u-7"]

    @Test func testKeepsEvaluatingWhileHalyardIsDownAndANewClientStartsFromTheCacheFile() async throws {
        let halyard = try await HalyardFixture()
        let cacheFile = try temporaryCachePath()
        let configuration = HalyardClientConfiguration(
            baseURL: halyard.baseURL, environment: "production", cacheFile: cacheFile,
            streamFallbackPollInterval: .milliseconds(100), reconnectBackoff: .milliseconds(20) ... .milliseconds(200))
        let first = try RunningClient.start(configuration)
        let initial = halyard.service.store.current!.commit
        try await first.waitFor(initial)
        try await eventually("the cache file is written") { FileManager.default.fileExists(atPath: cacheFile) }

        await halyard.stop()
        // Halyard is down: the running client still answers from memory.
        #expect(first.client.bool("new-checkout", default: false, context: Self.disney) == true)
        #expect(first.client.stringDetails("checkout-layout", default: "?", context: ["plan": "enterprise"]).value == "one-page")

        // A new client, with Halyard unreachable, is ready from the cache file alone.
        let second = try RunningClient.start(configuration)
        #expect(second.client.isReady)
        try await second.client.waitUntilReady(timeout: .seconds(1))
        #expect(second.client.flagSet?.commit == initial)
        #expect(second.client.bool("new-checkout", default: false, context: Self.disney) == true)
        #expect(second.client.objectDetails("banner", default: .null, context: ["country": "NL"]).variant == "sale")

        // A commit made while Halyard is down reaches both clients once it is back.
        try halyard.repository.write("flags/production/new-checkout.json", ClientFlagFiles.everybody(false))
        let commit = try halyard.repository.commit("checkout off while Halyard is down")
        try await halyard.start()
        try await first.waitFor(commit)
        try await second.waitFor(commit)
        #expect(first.client.bool("new-checkout", default: true, context: Self.disney) == false)
        // The stream is back: the next commit arrives without polling (the clients poll only while it is down).
        let after = try await halyard.commit(["flags/production/static-off.json": ClientFlagFiles.everybody(true)])
        try await first.waitFor(after)
        try await second.waitFor(after)
        await first.stop()
        await second.stop()
        await halyard.destroy()
    }

    @Test func testACorruptCacheFileIsIgnoredAndReplaced() async throws {
        let halyard = try await HalyardFixture()
        let cacheFile = try temporaryCachePath()
        try Data("{\"format\": \"halyard-client-cache/1\", \"environment\": \"production\", \"flagSet\": {\"flags\": 3".utf8)
            .write(to: URL(fileURLWithPath: cacheFile))
        let configuration = HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", cacheFile: cacheFile)
        let client = try RunningClient.start(configuration)
        let details = client.client.boolDetails("new-checkout", default: true)
        if !client.client.isReady {
            #expect(details == FlagDetails(flagID: "new-checkout", value: true, variant: nil, reason: .error, errorCode: .providerNotReady))
        }
        try await client.waitFor(halyard.service.store.current!.commit)
        await client.stop()

        // The file now holds the good flags: a client pointed at nowhere starts from it.
        let offline = try HalyardClient(
            configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production", cacheFile: cacheFile))
        #expect(offline.flagSet?.commit == halyard.service.store.current!.commit)
        await halyard.destroy()
    }

    @Test func testCacheFilesThatAreNotJSONOrOfAnotherEnvironmentAreIgnored() async throws {
        let halyard = try await HalyardFixture()
        let cacheFile = try temporaryCachePath()
        // A good cache file of staging.
        let staging = try RunningClient.start(HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "staging", cacheFile: cacheFile))
        try await staging.waitFor(halyard.service.store.current!.commit)
        try await eventually("the cache file is written") { FileManager.default.fileExists(atPath: cacheFile) }
        await staging.stop()
        await halyard.destroy()

        let production = try HalyardClient(
            configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production", cacheFile: cacheFile))
        #expect(!production.isReady)
        #expect(production.intDetails("discount", default: 7).errorCode == .providerNotReady)
        await #expect(throws: HalyardClientError.self) { try await production.waitUntilReady(timeout: .milliseconds(50)) }

        for garbage in ["", "not json", "[1, 2]", #"{"format": "something-else"}"#] {
            try Data(garbage.utf8).write(to: URL(fileURLWithPath: cacheFile))
            let client = try HalyardClient(
                configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "staging", cacheFile: cacheFile))
            #expect(!client.isReady, "\(garbage)")
        }
    }
}
