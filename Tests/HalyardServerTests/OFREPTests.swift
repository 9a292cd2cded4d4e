//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardNotify
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import HalyardServer

struct OFREPTests {
    /// Production: a targeted flag with metadata, an everybody flag, an inactive flag with `baseState: true`, and a
    /// flag that targets `targetingKey`.
    static func seed(_ repository: GitRepository) throws {
        try repository.write(
            "flags/production/new-checkout.json",
            """
            {"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}]],
             "metadata": {"owner": "checkout-team", "priority": 2, "launched": false, "links": ["x"], "commit": "not-this"}}
            """
        )
        try repository.write("flags/production/dark-mode.json", FlagFile.everybody)
        try repository.write("flags/production/legacy-search.json", #"{"active": false, "baseState": true, "rules": [[]]}"#)
        try repository.write(
            "flags/production/beta.json",
            #"{"active": true, "rules": [[{"type": "filter", "attribute": "targetingKey", "operator": "in", "comparator": ["user-1"]}]]}"#
        )
        try repository.write("flags/staging/new-checkout.json", FlagFile.everybody)
    }

    func evaluate(
        _ client: some TestClientProtocol,
        _ key: String,
        body: String?,
        environment: String = "production",
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        try await client.execute(
            uri: "/environments/\(environment)/ofrep/v1/evaluate/flags/\(key)",
            method: .post,
            headers: headers,
            body: body.map { .string($0) }
        )
    }

    @Test func testSingleFlagReasonsVariantsAndMetadata() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let cases: [(key: String, context: String, value: Bool, reason: String)] = [
                ("new-checkout", #"{"targetingKey": "u-1", "plan": "Enterprise"}"#, true, "TARGETING_MATCH"),
                ("new-checkout", #"{"targetingKey": "u-2", "plan": "free"}"#, false, "DEFAULT"),
                ("new-checkout", #"{}"#, false, "DEFAULT"),
                ("legacy-search", #"{"targetingKey": "u-1"}"#, true, "DISABLED"),
                ("dark-mode", #"{"targetingKey": "u-1"}"#, true, "TARGETING_MATCH"),
                ("beta", #"{"targetingKey": "user-1"}"#, true, "TARGETING_MATCH"),
                ("beta", #"{"targetingKey": "user-2"}"#, false, "DEFAULT"),
            ]
            for (key, context, value, reason) in cases {
                let response = try await evaluate(client, key, body: #"{"context": \#(context)}"#)
                #expect(response.status == .ok, "\(key) \(context)")
                #expect(response.headers[.contentType] == "application/json")
                let json = response.json
                #expect(json["key"] as? String == key)
                #expect(json["value"] as? Bool == value, "\(key) \(context)")
                #expect(json["reason"] as? String == reason, "\(key) \(context)")
                // A boolean flag's variants are `on` (`!baseState`, the selected users) and `off` (`baseState`), DESIGN §1.
                #expect(json["variant"] as? String == (reason == "TARGETING_MATCH" ? "on" : "off"))
                #expect((json["metadata"] as? [String: Any])?["commit"] as? String == head)
            }
            // Scalar flag metadata is passed on; nested values are left out and `commit` is the served commit.
            let response = try await evaluate(client, "new-checkout", body: #"{"context": {"plan": "enterprise"}}"#)
            #expect(
                response.text
                    == #"{"key":"new-checkout","value":true,"reason":"TARGETING_MATCH","variant":"on","metadata":{"launched":false,"owner":"checkout-team","priority":2,"commit":"\#(head)"}}"#
            )
        }
    }

    @Test func testLenientBodies() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            for body in [nil, "", "{}", #"{"context": null}"#, #"{"context": {}}"#, #"{"context": {"targetingKey": null}, "extra": 1}"#] {
                let response = try await evaluate(client, "dark-mode", body: body)
                #expect(response.status == .ok, "\(body ?? "no body")")
                #expect(response.json["value"] as? Bool == true)
            }
        }
    }

    @Test func testBadBodies() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let cases: [(body: String, code: String, details: String)] = [
                ("{", "PARSE_ERROR", "request body is not valid JSON"),
                (#"{"context": {},}"#, "PARSE_ERROR", "request body is not valid JSON"),
                ("[1, 2]", "PARSE_ERROR", "request body must be a JSON object"),
                ("42", "PARSE_ERROR", "request body must be a JSON object"),
                (#"{"context": []}"#, "INVALID_CONTEXT", "context must be an object, not an array"),
                (#"{"context": "user-1"}"#, "INVALID_CONTEXT", "context must be an object, not a string"),
                (#"{"context": {"targetingKey": 42}}"#, "INVALID_CONTEXT", "context.targetingKey must be a string, not a number"),
            ]
            for (body, code, details) in cases {
                let single = try await evaluate(client, "dark-mode", body: body)
                #expect(single.status == .badRequest, "\(body)")
                #expect(single.headers[.contentType] == "application/json")
                #expect(single.json["key"] as? String == "dark-mode")
                #expect(single.json["errorCode"] as? String == code, "\(body)")
                #expect((single.json["errorDetails"] as? String)?.hasPrefix(details) == true, "\(body) → \(single.text)")
                let bulk = try await client.execute(uri: "/environments/production/ofrep/v1/evaluate/flags", method: .post, body: .string(body))
                #expect(bulk.status == .badRequest, "\(body)")
                #expect(bulk.json["key"] == nil)
                #expect(bulk.json["errorCode"] as? String == code, "\(body)")
            }
            let big = #"{"context": {"blob": ""# + String(repeating: "x", count: 1 << 20) + #""}}"#
            let tooLarge = try await evaluate(client, "dark-mode", body: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.json["errorCode"] as? String == "GENERAL")
            #expect((tooLarge.json["errorDetails"] as? String)?.contains("limit") == true)
        }
    }

    @Test func testUnknownFlagsAndEnvironments() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let missing = try await evaluate(client, "no-such-flag", body: #"{"context": {"targetingKey": "u-1"}}"#)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/json")
            #expect(missing.json["key"] as? String == "no-such-flag")
            #expect(missing.json["errorCode"] as? String == "FLAG_NOT_FOUND")
            #expect(missing.json["errorDetails"] as? String == #"flag "no-such-flag" not found in environment "production""#)
            // A flag of another environment is not found in this one.
            let staging = try await evaluate(client, "dark-mode", body: "{}", environment: "staging")
            #expect(staging.status == .notFound)

            let unknownEnvironment = try await evaluate(client, "dark-mode", body: "{}", environment: "qa")
            #expect(unknownEnvironment.status == .notFound)
            #expect(unknownEnvironment.json["errorCode"] as? String == "FLAG_NOT_FOUND")
            #expect(unknownEnvironment.json["errorDetails"] as? String == #"unknown environment "qa""#)
            for (uri, method) in [("/environments/qa/ofrep/v1/evaluate/flags", HTTPRequest.Method.post), ("/environments/qa/ofrep/v1/events", .get)] {
                let response = try await client.execute(uri: uri, method: method, body: .string("{}"))
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.json["errorCode"] as? String == "GENERAL")
                #expect(response.json["errorDetails"] as? String == #"unknown environment "qa""#)
            }
        }
    }

    @Test func testBulkEvaluationWithETags() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let uri = "/environments/production/ofrep/v1/evaluate/flags"
            let context = #"{"context": {"targetingKey": "user-1", "plan": "enterprise"}}"#
            let response = try await client.execute(uri: uri, method: .post, body: .string(context))
            #expect(response.status == .ok)
            let json = response.json
            let flags = json["flags"] as? [[String: Any]] ?? []
            #expect(flags.map { $0["key"] as? String } == ["beta", "dark-mode", "legacy-search", "new-checkout"])
            #expect(flags.map { $0["value"] as? Bool } == [true, true, true, true])
            #expect(flags.map { $0["reason"] as? String } == ["TARGETING_MATCH", "TARGETING_MATCH", "DISABLED", "TARGETING_MATCH"])
            #expect(flags.map { $0["variant"] as? String } == ["on", "on", "off", "on"])
            #expect(json["metadata"] as? [String: String] == ["environment": "production", "commit": head])
            let streams = json["eventStreams"] as? [[String: Any]] ?? []
            #expect(streams.count == 1)
            #expect(streams.first?["type"] as? String == "sse")
            #expect(streams.first?["endpoint"] as? [String: String] == ["requestUri": "/environments/production/ofrep/v1/events"])

            let digest = fixture.store.current!.snapshot.environments["production"]!.digest
            let etag = try #require(response.headers[.eTag])
            #expect(etag.hasPrefix("\"\(digest)-"))
            // The same context, written differently, has the same tag.
            let reordered = try await client.execute(
                uri: uri,
                method: .post,
                body: .string(#"{ "context": { "plan": "enterprise", "targetingKey": "user-1" } }"#)
            )
            #expect(reordered.headers[.eTag] == etag)
            let notModified = try await client.execute(
                uri: uri + "?flagConfigEtag=\(digest)",
                method: .post,
                headers: [.ifNoneMatch: etag],
                body: .string(context)
            )
            #expect(notModified.status == .notModified)
            #expect(notModified.headers[.eTag] == etag)
            #expect(notModified.body.readableBytes == 0)
            // Another context: another tag, a full answer.
            let other = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: etag], body: .string(#"{"context": {}}"#))
            #expect(other.status == .ok)
            #expect(other.headers[.eTag] != etag)
            #expect((other.json["flags"] as? [[String: Any]])?.map { $0["value"] as? Bool } == [false, true, true, false])

            // A flag change changes the tag.
            try fixture.repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let change = try fixture.repository.commit("dark mode off")
            try await fixture.waitUntilServing(change)
            let changed = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: etag], body: .string(context))
            #expect(changed.status == .ok)
            #expect(changed.headers[.eTag] != etag)
        }
    }

    @Test func testReadTokens() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", readTokens: ["reader"]), seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let denied = try await evaluate(client, "dark-mode", body: "{}")
            #expect(denied.status == .unauthorized)
            #expect(denied.headers[.wwwAuthenticate] == "Bearer")
            #expect(denied.json["key"] as? String == "dark-mode")
            #expect(denied.json["errorCode"] as? String == "GENERAL")
            #expect((denied.json["errorDetails"] as? String)?.contains("missing read token") == true)
            let wrong = try await evaluate(client, "dark-mode", body: "{}", headers: .bearer("nope"))
            #expect(wrong.status == .unauthorized)
            for headers: HTTPFields in [.bearer("reader"), [.init("X-API-Key")!: "reader"], .bearer("admin-secret")] {
                let allowed = try await evaluate(client, "dark-mode", body: "{}", headers: headers)
                #expect(allowed.status == .ok, "\(headers)")
                let bulk = try await client.execute(
                    uri: "/environments/production/ofrep/v1/evaluate/flags",
                    method: .post,
                    headers: headers,
                    body: .string("{}")
                )
                #expect(bulk.status == .ok, "\(headers)")
            }
            let bulkDenied = try await client.execute(uri: "/environments/production/ofrep/v1/evaluate/flags", method: .post, body: .string("{}"))
            #expect(bulkDenied.status == .unauthorized)
            let eventsDenied = try await client.execute(uri: "/environments/production/ofrep/v1/events", method: .get)
            #expect(eventsDenied.status == .unauthorized)
            #expect(eventsDenied.json["errorCode"] as? String == "GENERAL")
        }
    }

    @Test func testNotReady() async throws {
        var logger = Logger(label: "halyard-ofrep-tests")
        logger.logLevel = .critical
        let dataDirectory = try TemporaryDirectory.make(prefix: "halyard-ofrep-data")
        let api = HTTPAPI(
            configuration: HTTPAPIConfiguration(),
            store: FlagStore(),
            refresh: {},
            changesSince: { _, _ in nil },
            database: try StateDatabase(path: dataDirectory + "/state.sqlite"),
            events: EventHub(),
            metricsRegistry: PrometheusCollectorRegistry(),
            logger: logger
        )
        try await Application(router: api.makeRouter(), logger: logger).test(.router) { client in
            let single = try await evaluate(client, "dark-mode", body: "{}")
            #expect(single.status == .serviceUnavailable)
            #expect(single.json["key"] as? String == "dark-mode")
            #expect(single.json["errorCode"] as? String == "PROVIDER_NOT_READY")
            let bulk = try await client.execute(uri: "/environments/production/ofrep/v1/evaluate/flags", method: .post, body: .string("{}"))
            #expect(bulk.status == .serviceUnavailable)
            #expect(bulk.json["errorCode"] as? String == "PROVIDER_NOT_READY")
        }
    }

    @Test func testWrongMethods() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/environments/production/ofrep/v1/evaluate/flags/dark-mode", .get, "POST"),
                ("/environments/production/ofrep/v1/evaluate/flags", .put, "POST"),
                ("/environments/production/ofrep/v1/events", .post, "GET, HEAD"),
            ]
            for (uri, method, allow) in cases {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
            }
        }
    }

    @Test func testEventStream() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(sseKeepAlive: .seconds(60)), seed: Self.seed)
        let repository = fixture.repository
        let first = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing(first)
            let port = try #require(client.port)
            let path = "/environments/production/ofrep/v1/events"
            let reader = EventStreamReader(port: port, path: path)
            defer { reader.close() }
            try await reader.waitUntilConnected()
            #expect(reader.status == 200)
            #expect(reader.header("content-type") == "text/event-stream")

            // Metadata only, and another environment: no event.
            try repository.write("flags/production/dark-mode.json", #"{"name": "Dark mode", "active": true, "rules": [[]]}"#)
            try repository.write("flags/staging/new-checkout.json", FlagFile.nobody)
            let quiet = try repository.commit("rename, staging")
            try await fixture.waitUntilServing(quiet)

            try repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let change = try repository.commit("dark mode off")
            try await fixture.waitUntilServing(change)
            let events = try await reader.waitForEvents(1)
            #expect(events.count == 1)
            let event = try #require(events.first)
            let state = try #require(fixture.store.current)
            #expect(event.id == change)
            #expect(event.name == "message")
            #expect(event.data["type"] as? String == "refetchEvaluation")
            #expect(event.data["etag"] as? String == state.snapshot.environments["production"]!.digest)
            #expect(event.data["lastModified"] as? Int == Int(state.appliedAt.timeIntervalSince1970))

            // Reconnecting with an older id: one immediate refetch; with the last change: none.
            let behind = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", first)])
            defer { behind.close() }
            let catchUp = try await behind.waitForEvents(1)
            #expect(catchUp.first?.id == change)
            #expect(catchUp.first?.data["type"] as? String == "refetchEvaluation")
            let upToDate = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", change)])
            defer { upToDate.close() }
            try await upToDate.waitUntilConnected()

            try repository.write("flags/production/extra.json", FlagFile.everybody)
            let next = try repository.commit("extra flag")
            try await fixture.waitUntilServing(next)
            #expect(try await upToDate.waitForEvents(1).map(\.id) == [next])
            #expect(try await behind.waitForEvents(2).map(\.id) == [change, next])
            #expect(try await reader.waitForEvents(2).map(\.id) == [change, next])
        }
    }
}
