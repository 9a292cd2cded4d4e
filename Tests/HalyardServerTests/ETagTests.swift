//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `If-None-Match` over a real loopback server: the quoted tag is canonical, the bare digest from `/v1/status` works too.
struct ETagTests {
    @Test func testTheBareDigestFromStatusGets304OnTheFlagsRoute() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let status = try await client.execute(uri: "/v1/status", method: .get)
            let environments = try #require(status.json["environments"] as? [String: [String: Any]])
            let digest = try #require(environments["production"]?["digest"] as? String)
            let uri = "/v1/environments/production/flags"

            let full = try await client.execute(uri: uri, method: .get)
            #expect(full.status == .ok)
            #expect(full.headers[.eTag] == "\"\(digest)\"", "the quoted form is the one the server sends")

            for header in ["\"\(digest)\"", digest, " \(digest) ", "other, \(digest)", "W/\"\(digest)\""] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: header])
                #expect(response.status == .notModified, "If-None-Match: \(header)")
                #expect(response.headers[.eTag] == "\"\(digest)\"")
                #expect(response.body.readableBytes == 0)
            }
            for header in ["other", String(digest.dropLast()), "\"\(digest)", "\(digest)x"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: header])
                #expect(response.status == .ok, "If-None-Match: \(header)")
            }
            // Another environment has another digest.
            let staging = try await client.execute(uri: "/v1/environments/staging/flags", method: .get, headers: [.ifNoneMatch: digest])
            #expect(staging.status == .ok)
        }
    }

    @Test func testTheBareTagGets304OnOFREPBulkEvaluation() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let uri = "/environments/production/ofrep/v1/evaluate/flags"
            let context = #"{"context": {"targetingKey": "user-1", "plan": "enterprise"}}"#
            let first = try await client.execute(uri: uri, method: .post, body: .string(context))
            #expect(first.status == .ok)
            let etag = try #require(first.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            let bare = String(etag.dropFirst().dropLast())

            for header in [etag, bare] {
                let response = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: header], body: .string(context))
                #expect(response.status == .notModified, "If-None-Match: \(header)")
                #expect(response.headers[.eTag] == etag)
            }
            // The tag covers the context: another context gets a full answer even with the bare tag.
            let other = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: bare], body: .string(#"{"context": {}}"#))
            #expect(other.status == .ok)
        }
    }
}
