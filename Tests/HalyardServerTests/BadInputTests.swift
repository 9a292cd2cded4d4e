//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardServer
import Hummingbird
import HummingbirdTesting
import Testing

struct BadInputTests {
    @Test func testMalformedEvaluateBodies() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let uri = "/v1/environments/production/evaluate"
            let cases: [(body: String, error: String)] = [
                ("", "request body is empty"),
                ("{", "request body is not valid JSON"),
                (#"{"context": {},}"#, "request body is not valid JSON"),
                ("[1, 2]", "request body must be a JSON object, not an array"),
                (#""context""#, "request body must be a JSON object, not a string"),
                (#"{"context": []}"#, "context must be an object, not an array"),
                (#"{"context": "plan=free"}"#, "context must be an object, not a string"),
                (#"{"context": {}, "flags": "new-checkout"}"#, "flags must be an array of flag ids, not a string"),
                (#"{"context": {}, "flags": ["a", 1]}"#, "flags must be an array of flag ids: flags[1] is a number"),
            ]
            for (body, error) in cases {
                try await client.execute(uri: uri, method: .post, body: .string(body)) { response in
                    #expect(response.status == .badRequest, "body: \(body)")
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(response.error?.hasPrefix(error) == true, "body: \(body) → \(response.text)")
                }
            }
        }
    }

    @Test func testOversizedBodies() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let big = #"{"context": {"blob": ""# + String(repeating: "x", count: 1 << 20) + #""}}"#
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.error?.contains("limit") == true)
            }
            try await client.execute(uri: "/v1/hooks/git", method: .post, body: .string(big)) { response in
                #expect(response.status == .contentTooLarge)
            }
            // Just under the evaluation limit (limits.contextBody, 64 KiB) is fine.
            let fits = #"{"context": {"blob": ""# + String(repeating: "x", count: (64 << 10) - 40) + #""}}"#
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(fits)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func testUnknownEnvironmentsFlagsAndPaths() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            for uri in ["/v1/environments/qa/flags", "/v1/environments/qa/stream", "/v1/environments/qa/flags/x"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(response.error == #"unknown environment "qa""#)
                }
            }
            try await client.execute(uri: "/v1/environments/qa/evaluate", method: .post, body: .string("{}")) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v2/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.error == "no route for GET /v2/nothing")
            }
        }
    }

    @Test func testWrongMethods() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/v1/environments/production/flags", .post, "GET, HEAD"),
                ("/v1/environments/production/evaluate", .get, "POST"),
                ("/v1/refresh", .get, "POST"),
                ("/v1/hooks/git", .put, "POST"),
                ("/v1/subscriptions", .delete, "GET, HEAD, POST"),
                ("/v1/subscriptions/sub_x", .post, "GET, HEAD, DELETE"),
                ("/v1/environments/production/stream", .post, "GET, HEAD"),
                ("/healthz", .delete, "GET, HEAD"),
            ]
            for (uri, method, allow) in cases {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect(response.error?.contains("not allowed") == true)
                }
            }
        }
    }

    @Test func testHeadAnswersWithoutABody() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let digest = fixture.store.current!.snapshot.environments["production"]!.digest
            try await client.execute(uri: "/healthz", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/v1/environments/production/flags", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.eTag] == "\"\(digest)\"")
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/v1/environments/qa/flags", method: .head) { response in
                #expect(response.status == .notFound)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/v1/environments/production/stream", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                #expect(response.body.readableBytes == 0)
            }
            #expect(fixture.hub.clientCount == 0)
        }
    }
}
