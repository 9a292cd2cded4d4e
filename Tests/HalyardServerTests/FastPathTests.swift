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
import NIOCore
import Testing

@testable import HalyardServer

/// The hot read routes are answered in the connection's pipeline (``FastPathHandler``), through the real server on
/// loopback: same answers, same metrics, same errors, and answers in the order of their requests.
struct FastPathTests {
    @Test func pipelinedRequestsAreAnsweredInTheirOrder() async throws {
        let fixture = try ServerFixture()
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let connection = try await RawConnection.connect(port: port)
            defer { connection.close() }
            let evaluate = #"{"context": {"plan": "enterprise"}}"#
            // The router answers the status; the flags and the evaluation, which the fast path answers, come after it,
            // and the unknown environment (the router again) after them.
            try await connection.send(
                "GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /v1/environments/production/flags HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "POST /v1/environments/production/evaluate HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: \(evaluate.utf8.count)\r\n\r\n\(evaluate)"
                    + "GET /v1/environments/qa/flags HTTP/1.1\r\nHost: localhost\r\n\r\n"
            )
            try await connection.waitFor(#"unknown environment \"qa\""#)
            let text = connection.text
            let status = try #require(text.range(of: #""appliedAt""#)?.lowerBound)
            let flags = try #require(text.range(of: #"{"environment":"production","commit""#)?.lowerBound)
            let evaluation = try #require(text.range(of: #"{"flags":{"dark-mode":true,"new-checkout":true}}"#)?.lowerBound)
            let unknown = try #require(text.range(of: #"unknown environment \"qa\""#)?.lowerBound)
            #expect(status < flags)
            #expect(flags < evaluation)
            #expect(evaluation < unknown)
            #expect(text.components(separatedBy: "HTTP/1.1 ").count == 5)
        }
    }

    @Test func fastAnswersAreCountedAndFailuresGoToTheRouter() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", readTokens: ["reader"]))
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let uri = "/v1/environments/production/flags"
            let denied = try await client.execute(uri: uri, method: .get)
            #expect(denied.status == .unauthorized)
            #expect(denied.error == "missing read token: send Authorization: Bearer <token> or X-API-Key: <token>")
            let listing = try await client.execute(uri: uri, method: .get, headers: .bearer("reader"))
            #expect(listing.status == .ok)
            #expect(listing.headers[.contentType] == "application/json")
            #expect(listing.headers[.date] != nil)
            let etag = try #require(listing.headers[.eTag])
            let notModified = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer reader", .ifNoneMatch: etag])
            #expect(notModified.status == .notModified)
            #expect(notModified.headers[.eTag] == etag)
            let badBody = try await client.execute(
                uri: "/v1/environments/production/evaluate",
                method: .post,
                headers: .bearer("reader"),
                body: .string("{")
            )
            #expect(badBody.status == .badRequest)
            let unknownFlag = try await client.execute(
                uri: "/environments/production/ofrep/v1/evaluate/flags/nope",
                method: .post,
                headers: .bearer("reader"),
                body: .string("{}")
            )
            #expect(unknownFlag.status == .notFound)
            #expect(unknownFlag.json["errorCode"] as? String == "FLAG_NOT_FOUND")

            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            for line in [
                #"halyard_http_requests_total{route="/v1/environments/{env}/flags",status="401"} 1"#,
                #"halyard_http_requests_total{route="/v1/environments/{env}/flags",status="200"} 1"#,
                #"halyard_http_requests_total{route="/v1/environments/{env}/flags",status="304"} 1"#,
                #"halyard_http_requests_total{route="/v1/environments/{env}/evaluate",status="400"} 1"#,
                #"halyard_http_requests_total{route="/environments/{env}/ofrep/v1/evaluate/flags/{key}",status="404"} 1"#,
            ] {
                #expect(metrics.contains(line), "\(line)")
            }
        }
    }

    @Test func aBodyInSeveralPiecesIsReadWhole() async throws {
        let fixture = try ServerFixture()
        try await fixture.limitedApplication().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let connection = try await RawConnection.connect(port: port)
            defer { connection.close() }
            let body = #"{"context": {"plan": "enterprise"}, "flags": ["new-checkout"]}"#
            try await connection.send(
                "POST /v1/environments/production/evaluate HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                    + body.prefix(10)
            )
            try await connection.send(String(body.dropFirst(10)))
            try await connection.waitFor(#"{"flags":{"new-checkout":true}}"#)
        }
    }
}
