//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardClient
import HalyardNotify
import HalyardRules
import HalyardTesting
import Testing

/// Refresh calls: only an authentic, fresh, new call fetches; any other changes nothing.
struct RefreshCallTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let rotated = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()

    static func body(commit: String, environment: String = "production") -> [UInt8] {
        Array(#"{"type":"flags.changed","timestamp":"2026-01-01T00:00:00Z","data":{"environment":"\#(environment)","commit":"\#(commit)","previousCommit":"x","added":[],"removed":[],"changed":["static-off"],"flagsUrl":"/v1/environments/production/flags"}}"#.utf8)
    }

    static func call(_ body: [UInt8], id: String = "msg_\(UUID().uuidString)", secret: String = secret, timestamp: Int = Int(Date().timeIntervalSince1970)) throws
        -> RefreshCall
    {
        let signer = try WebhookSigner(secret: secret)
        return RefreshCall(id: id, timestamp: String(timestamp), signature: signer.signature(id: id, timestamp: timestamp, body: body), body: body)
    }

    @Test func testForgedExpiredAndReplayedCallsChangeNothing() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(
            HalyardClientConfiguration(baseURL: halyard.baseURL, environment: "production", updateMode: .webhook, webhookSecrets: [Self.secret, Self.rotated]))
        let initial = halyard.service.store.current!.commit
        try await running.waitFor(initial)
        let client = running.client

        // Halyard has a new commit the client does not know about (nobody calls it).
        let second = try await halyard.commit(["flags/production/static-off.json": ClientFlagFiles.everybody(true)])
        let body = Self.body(commit: second)

        let forged = try Self.call(body, secret: "whsec_" + Data(repeating: 7, count: 32).base64EncodedString())
        #expect(await client.handleRefreshCall(forged) == .unauthorized(.invalidSignature))
        var tampered = try Self.call(Self.body(commit: initial))
        tampered.body = body
        #expect(await client.handleRefreshCall(tampered) == .unauthorized(.invalidSignature))
        let unsigned = RefreshCall(id: "msg_1", timestamp: String(Int(Date().timeIntervalSince1970)), signature: nil, body: body)
        #expect(await client.handleRefreshCall(unsigned) == .unauthorized(.invalidSignature))
        let expired = try Self.call(body, timestamp: Int(Date().timeIntervalSince1970) - 301)
        #expect(await client.handleRefreshCall(expired) == .unauthorized(.expired))
        let early = try Self.call(body, timestamp: Int(Date().timeIntervalSince1970) + 400)
        #expect(await client.handleRefreshCall(early) == .unauthorized(.expired))
        let notJSON = try Self.call(Array("refresh please".utf8))
        #expect(await client.handleRefreshCall(notJSON).httpStatus == 400)
        #expect(client.flagSet?.commit == initial)
        #expect(client.bool("static-off", default: false) == false)

        // Signed with the rotated secret: accepted, and the flags are fetched before the call returns.
        let good = try Self.call(body, id: "msg_good", secret: Self.rotated)
        #expect(await client.handleRefreshCall(good) == .accepted)
        #expect(client.flagSet?.commit == second)
        #expect(client.bool("static-off", default: false) == true)

        // The same call again, after another commit: a replay, so nothing is fetched.
        let third = try await halyard.commit(["flags/production/static-off.json": ClientFlagFiles.everybody(false)])
        #expect(await client.handleRefreshCall(good) == .duplicate)
        #expect(client.flagSet?.commit == second)
        // A new call for the third commit is accepted.
        #expect(await client.handleRefreshCall(try Self.call(Self.body(commit: third))) == .accepted)
        #expect(client.flagSet?.commit == third)
        // A call about another environment is accepted and fetches nothing.
        #expect(await client.handleRefreshCall(try Self.call(Self.body(commit: "abc", environment: "staging"))) == .accepted)
        await running.stop()
        await halyard.destroy()
    }

    @Test func testABodyThatIsNotAChangeIsABadRequest() async throws {
        let client = try HalyardClient(
            configuration: HalyardClientConfiguration(baseURL: "http://127.0.0.1:9", environment: "production", updateMode: .webhook, webhookSecrets: [Self.secret]))
        for text in ["refresh please", #"{"type": "other"}"#, #"{"type": "flags.changed", "data": {"environment": 3}}"#] {
            let outcome = await client.handleRefreshCall(try Self.call(Array(text.utf8)))
            #expect(outcome.httpStatus == 400, "\(text)")
            guard case .badRequest = outcome else {
                Issue.record("\(text) gave \(outcome)")
                continue
            }
        }
    }
}
