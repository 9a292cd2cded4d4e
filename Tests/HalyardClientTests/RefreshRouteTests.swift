//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardClient
import HalyardClientHummingbird
import HalyardNotify
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `addHalyardRefreshRoute`: 204, 401, 400 and 413, against a real Halyard.
struct RefreshRouteTests {
    static func headers(_ call: RefreshCall) -> HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("webhook-id")!] = call.id
        fields[HTTPField.Name("webhook-timestamp")!] = call.timestamp
        fields[HTTPField.Name("webhook-signature")!] = call.signature
        return fields
    }

    @Test func testStatuses() async throws {
        let halyard = try await HalyardFixture()
        let running = try RunningClient.start(
            HalyardClientConfiguration(
                baseURL: halyard.baseURL, environment: "production", updateMode: .webhook, webhookSecrets: [RefreshCallTests.secret]))
        try await running.waitFor(halyard.service.store.current!.commit)
        let commit = try await halyard.commit(["flags/production/static-off.json": ClientFlagFiles.everybody(true)])
        let router = Router()
        router.addHalyardRefreshRoute("/hooks/flags", client: running.client)
        let app = Application(router: router)
        try await app.test(.router) { http in
            let body = RefreshCallTests.body(commit: commit)
            let forged = try RefreshCallTests.call(body, secret: "whsec_" + Data(repeating: 9, count: 32).base64EncodedString())
            try await http.execute(uri: "/hooks/flags", method: .post, headers: Self.headers(forged), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("invalid_signature"))
            }
            #expect(running.client.flagSet?.commit != commit)

            let notJSON = try RefreshCallTests.call(Array("nope".utf8))
            try await http.execute(uri: "/hooks/flags", method: .post, headers: Self.headers(notJSON), body: ByteBuffer(string: "nope")) { response in
                #expect(response.status == .badRequest)
            }

            let large = [UInt8](repeating: 0x20, count: (1 << 20) + 1)
            let tooLarge = try RefreshCallTests.call(large)
            try await http.execute(uri: "/hooks/flags", method: .post, headers: Self.headers(tooLarge), body: ByteBuffer(bytes: large)) { response in
                #expect(response.status == .contentTooLarge)
            }

            let good = try RefreshCallTests.call(body)
            try await http.execute(uri: "/hooks/flags", method: .post, headers: Self.headers(good), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .noContent)
            }
            #expect(running.client.flagSet?.commit == commit)
            try await http.execute(uri: "/hooks/flags", method: .post, headers: Self.headers(good), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .noContent)
            }
        }
        await running.stop()
        await halyard.destroy()
    }
}
