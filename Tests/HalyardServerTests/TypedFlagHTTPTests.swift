//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HalyardNotify
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import HalyardServer

/// Typed flags (string, number, object variants, splits) through `/evaluate`, OFREP, the flags routes, SSE and webhooks
/// (DESIGN §1, §2, §4, §6; issue 11).
struct TypedFlagHTTPTests {
    /// Typed flag files as the tests write them.
    enum TypedFile {
        /// A string flag: `one-page` for enterprise, then a 50/50 split of everybody by `userId`, else `classic`.
        static let checkoutLayout = """
            {"name": "Checkout layout", "active": true,
             "variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"},
             "defaultVariant": "classic",
             "rules": [
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
               {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}
             ],
             "metadata": {"owner": "checkout-team"}}
            """
        /// A number flag whose values are written as people write them: `10`, `10.0`, `2^53 − 1`, `0`.
        static let pageSize = """
            {"active": true,
             "variants": {"ten": 10, "ten-float": 10.0, "huge": 9007199254740991, "zero": 0},
             "defaultVariant": "ten",
             "rules": [
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "float"}], "serve": "ten-float"},
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "huge"}], "serve": "huge"},
               {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "free"}], "serve": "zero"}
             ]}
            """
        /// An object flag with no groups: `{}` for everybody (`STATIC`).
        static let banner =
            #"{"active": true, "variants": {"none": {}, "sale": {"text": "Sale", "ratio": 2.50}}, "defaultVariant": "none", "rules": []}"#
        /// A boolean-kind typed flag serving `false` to everybody.
        static let killSwitch = #"{"active": true, "variants": {"off": false, "on": true}, "defaultVariant": "off", "rules": []}"#
        /// A string flag serving `""` to everybody.
        static let emptyGreeting = #"{"active": true, "variants": {"empty": "", "hello": "hello"}, "defaultVariant": "empty", "rules": []}"#
        /// An inactive string flag: its default for everybody (`DISABLED`).
        static let inactiveTheme =
            #"{"active": false, "variants": {"light": "light", "dark": "dark"}, "defaultVariant": "dark", "rules": [{"when": [], "serve": "light"}]}"#
    }

    /// Production: the typed flags above and a boolean flag; staging: a boolean flag.
    static func seed(_ repository: GitRepository) throws {
        try repository.write("flags/production/checkout-layout.json", TypedFile.checkoutLayout)
        try repository.write("flags/production/page-size.json", TypedFile.pageSize)
        try repository.write("flags/production/banner.json", TypedFile.banner)
        try repository.write("flags/production/kill-switch.json", TypedFile.killSwitch)
        try repository.write("flags/production/empty-greeting.json", TypedFile.emptyGreeting)
        try repository.write("flags/production/inactive-theme.json", TypedFile.inactiveTheme)
        try repository.write("flags/production/dark-mode.json", FlagFile.everybody)
        try repository.write("flags/staging/dark-mode.json", FlagFile.everybody)
    }

    /// A `userId` whose split bucket gives `variant` in `checkout-layout`, found by asking the server.
    func userID(
        gettingSplitVariant variant: String,
        _ client: some TestClientProtocol
    ) async throws -> String {
        for index in 0..<200 {
            let user = "user-\(index)"
            let response = try await evaluate(client, #"{"context": {"userId": "\#(user)"}, "flags": ["checkout-layout"], "details": true}"#)
            let entry = (response.json["flags"] as? [String: Any])?["checkout-layout"] as? [String: Any]
            if entry?["variant"] as? String == variant { return user }
        }
        Issue.record("no user among 200 gets \(variant)")
        return ""
    }

    func evaluate(_ client: some TestClientProtocol, _ body: String, environment: String = "production") async throws -> TestResponse {
        try await client.execute(uri: "/v1/environments/\(environment)/evaluate", method: .post, body: .string(body))
    }

    func ofrep(_ client: some TestClientProtocol, _ key: String, context: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/environments/production/ofrep/v1/evaluate/flags/\(key)",
            method: .post,
            body: .string(#"{"context": \#(context)}"#)
        )
    }

    // MARK: - POST /evaluate

    @Test func testEvaluateAnswersTypedValuesExactlyAsWritten() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            // Every flag, in id order; numbers as written, falsy values present.
            let all = try await evaluate(client, #"{"context": {"plan": "enterprise"}}"#)
            #expect(all.status == .ok)
            #expect(
                all.text
                    == #"{"flags":{"banner":{},"checkout-layout":"one-page","dark-mode":true,"empty-greeting":"","inactive-theme":"dark","kill-switch":false,"page-size":10}}"#
            )
            let cases: [(plan: String, expected: String)] = [("float", "10.0"), ("huge", "9007199254740991"), ("free", "0"), ("other", "10")]
            for (plan, expected) in cases {
                let response = try await evaluate(client, #"{"context": {"plan": "\#(plan)"}, "flags": ["page-size"]}"#)
                #expect(response.text == #"{"flags":{"page-size":\#(expected)}}"#, "plan \(plan)")
            }
            // Without details an unknown id is still plain `false`.
            let unknown = try await evaluate(client, #"{"flags": ["nope", "banner"], "details": false}"#)
            #expect(unknown.text == #"{"flags":{"nope":false,"banner":{}}}"#)
        }
    }

    @Test func testEvaluateWithDetails() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let enterprise = try await evaluate(
                client,
                #"{"context": {"plan": "enterprise"}, "flags": ["checkout-layout", "page-size", "banner", "kill-switch", "empty-greeting", "inactive-theme", "dark-mode", "nope"], "details": true}"#
            )
            #expect(enterprise.status == .ok)
            #expect(
                enterprise.text
                    == #"{"flags":{"checkout-layout":{"value":"one-page","variant":"one-page","reason":"TARGETING_MATCH"},"#
                    + #""page-size":{"value":10,"variant":"ten","reason":"DEFAULT"},"#
                    + #""banner":{"value":{},"variant":"none","reason":"STATIC"},"#
                    + #""kill-switch":{"value":false,"variant":"off","reason":"STATIC"},"#
                    + #""empty-greeting":{"value":"","variant":"empty","reason":"STATIC"},"#
                    + #""inactive-theme":{"value":"dark","variant":"dark","reason":"DISABLED"},"#
                    + #""dark-mode":{"value":true,"variant":"on","reason":"TARGETING_MATCH"},"#
                    + #""nope":{"value":false,"reason":"FLAG_NOT_FOUND"}}}"#
            )
            // A split: the user's variant with SPLIT, the same on every request.
            let compactUser = try await userID(gettingSplitVariant: "compact", client)
            for _ in 0..<3 {
                let split = try await evaluate(
                    client,
                    #"{"context": {"userId": "\#(compactUser)"}, "flags": ["checkout-layout"], "details": true}"#
                )
                #expect(split.text == #"{"flags":{"checkout-layout":{"value":"compact","variant":"compact","reason":"SPLIT"}}}"#)
            }
            // A user without the split attribute falls through to the default: no error.
            let noUser = try await evaluate(client, #"{"context": {"plan": "free"}, "flags": ["checkout-layout", "page-size"], "details": true}"#)
            #expect(
                noUser.text
                    == #"{"flags":{"checkout-layout":{"value":"classic","variant":"classic","reason":"DEFAULT"},"page-size":{"value":0,"variant":"zero","reason":"TARGETING_MATCH"}}}"#
            )
            // `null` details is no details.
            let nullDetails = try await evaluate(client, #"{"flags": ["kill-switch"], "details": null}"#)
            #expect(nullDetails.text == #"{"flags":{"kill-switch":false}}"#)
        }
    }

    @Test func testEvaluateRejectsDetailsThatAreNotABoolean() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let cases: [(details: String, type: String)] = [(#""yes""#, "a string"), ("1", "a number"), ("[]", "an array"), ("{}", "an object")]
            for (details, type) in cases {
                let response = try await evaluate(client, #"{"context": {}, "details": \#(details)}"#)
                #expect(response.status == .badRequest, "details \(details)")
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.error == "details must be a boolean (true or false), not \(type)", "details \(details)")
            }
            // The flags keep serving.
            let after = try await evaluate(client, #"{"flags": ["dark-mode"]}"#)
            #expect(after.text == #"{"flags":{"dark-mode":true}}"#)
        }
    }

    // MARK: - OFREP

    @Test func testOFREPSingleFlagTypedValuesVariantsAndReasons() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let compactUser = try await userID(gettingSplitVariant: "compact", client)
            let cases: [(key: String, context: String, body: String)] = [
                ("checkout-layout", #"{"plan": "enterprise"}"#, #""value":"one-page","reason":"TARGETING_MATCH","variant":"one-page""#),
                ("checkout-layout", #"{"userId": "\#(compactUser)"}"#, #""value":"compact","reason":"SPLIT","variant":"compact""#),
                ("checkout-layout", #"{"targetingKey": "u-1"}"#, #""value":"classic","reason":"DEFAULT","variant":"classic""#),
                ("page-size", #"{"plan": "float"}"#, #""value":10.0,"reason":"TARGETING_MATCH","variant":"ten-float""#),
                ("page-size", #"{"plan": "huge"}"#, #""value":9007199254740991,"reason":"TARGETING_MATCH","variant":"huge""#),
                ("page-size", #"{"plan": "free"}"#, #""value":0,"reason":"TARGETING_MATCH","variant":"zero""#),
                ("page-size", #"{}"#, #""value":10,"reason":"DEFAULT","variant":"ten""#),
                ("banner", #"{}"#, #""value":{},"reason":"STATIC","variant":"none""#),
                ("kill-switch", #"{}"#, #""value":false,"reason":"STATIC","variant":"off""#),
                ("empty-greeting", #"{}"#, #""value":"","reason":"STATIC","variant":"empty""#),
                ("inactive-theme", #"{}"#, #""value":"dark","reason":"DISABLED","variant":"dark""#),
            ]
            for (key, context, body) in cases {
                let response = try await ofrep(client, key, context: context)
                #expect(response.status == .ok, "\(key) \(context)")
                let metadata = key == "checkout-layout" ? #""owner":"checkout-team","# : ""
                #expect(response.text == #"{"key":"\#(key)",\#(body),"metadata":{\#(metadata)"commit":"\#(head)"}}"#, "\(key) \(context)")
            }
        }
    }

    @Test func testOFREPBulkTypedValuesAndETag() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let uri = "/environments/production/ofrep/v1/evaluate/flags"
            let body = #"{"context": {"targetingKey": "u-1", "plan": "free"}}"#
            let response = try await client.execute(uri: uri, method: .post, body: .string(body))
            #expect(response.status == .ok)
            let flags = try #require(response.json["flags"] as? [[String: Any]])
            #expect(
                flags.map { $0["key"] as? String } == [
                    "banner", "checkout-layout", "dark-mode", "empty-greeting", "inactive-theme", "kill-switch", "page-size",
                ]
            )
            // Falsy values are present, each with its variant and reason.
            for expected in [
                #"{"key":"banner","value":{},"reason":"STATIC","variant":"none","#,
                #"{"key":"empty-greeting","value":"","reason":"STATIC","variant":"empty","#,
                #"{"key":"kill-switch","value":false,"reason":"STATIC","variant":"off","#,
                #"{"key":"page-size","value":0,"reason":"TARGETING_MATCH","variant":"zero","#,
                #"{"key":"checkout-layout","value":"classic","reason":"DEFAULT","variant":"classic","#,
            ] {
                #expect(response.text.contains(expected), "\(expected)")
            }
            let etag = try #require(response.headers[.eTag])
            let again = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: etag], body: .string(body))
            #expect(again.status == .notModified)
            #expect(again.headers[.eTag] == etag)

            // A typed change gives a new ETag and the new value.
            try fixture.repository.write(
                "flags/production/page-size.json",
                TypedFile.pageSize.replacingOccurrences(of: #""zero": 0"#, with: #""zero": 5"#)
            )
            let change = try fixture.repository.commit("page size zero is 5")
            try await fixture.waitUntilServing(change)
            let changed = try await client.execute(uri: uri, method: .post, headers: [.ifNoneMatch: etag], body: .string(body))
            #expect(changed.status == .ok)
            #expect(changed.headers[.eTag] != etag)
            #expect(changed.text.contains(#"{"key":"page-size","value":5,"reason":"TARGETING_MATCH","variant":"zero","#))
        }
    }

    // MARK: - Flags routes

    @Test func testNormalisedTypedFlagKeepsNumbersAsWritten() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let one = try await client.execute(uri: "/v1/environments/production/flags/page-size", method: .get)
            #expect(one.status == .ok)
            #expect(one.text.contains(#""variants":{"huge":9007199254740991,"ten":10,"ten-float":10.0,"zero":0}"#), "\(one.text)")
            #expect(one.text.contains(#""defaultVariant":"ten""#))
            #expect(!one.text.contains("baseState"))
            let rules = try #require(one.json["rules"] as? [[String: Any]])
            #expect(rules.count == 3)
            #expect(rules.first?["serve"] as? String == "ten-float")

            let layout = try await client.execute(uri: "/v1/environments/production/flags/checkout-layout", method: .get)
            #expect(
                layout.text.contains(
                    #"{"split":{"attribute":"userId","variants":[{"percentage":50,"variant":"compact"},{"percentage":50,"variant":"classic"}]},"when":[]}"#
                ),
                "\(layout.text)"
            )
            let banner = try await client.execute(uri: "/v1/environments/production/flags/banner", method: .get)
            #expect(banner.text.contains(#""variants":{"none":{},"sale":{"ratio":2.50,"text":"Sale"}}"#), "\(banner.text)")

            let all = try await client.execute(uri: "/v1/environments/production/flags", method: .get)
            #expect(all.text.contains(#""variants":{"huge":9007199254740991,"ten":10,"ten-float":10.0,"zero":0}"#))
        }
    }

    // MARK: - Effective changes: SSE and /v1/status

    /// The commits of ``testTypedChangesArePublishedAndKeyOrderIsNot``: what each writes and whether it is effective.
    static let changes: [(message: String, path: String, contents: String, effective: Bool)] = [
        (
            "reorder the variants of page-size, reformat",
            "flags/production/page-size.json",
            """
            {
              "rules": [
                {"serve": "ten-float", "when": [{"comparator": "float", "operator": "==", "attribute": "plan", "type": "filter"}]},
                {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "huge"}], "serve": "huge"},
                {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "free"}], "serve": "zero"}
              ],
              "defaultVariant": "ten",
              "variants": {"zero": 0, "huge": 9007199254740991, "ten-float": 10.0, "ten": 10},
              "active": true
            }
            """,
            false
        ),
        (
            "a variant value of page-size",
            "flags/production/page-size.json",
            TypedFile.pageSize.replacingOccurrences(of: #""ten": 10,"#, with: #""ten": 20,"#),
            true
        ),
        (
            "the default variant of checkout-layout",
            "flags/production/checkout-layout.json",
            TypedFile.checkoutLayout.replacingOccurrences(of: #""defaultVariant": "classic""#, with: #""defaultVariant": "compact""#),
            true
        ),
        (
            "the served variant of checkout-layout",
            "flags/production/checkout-layout.json",
            TypedFile.checkoutLayout
                .replacingOccurrences(of: #""defaultVariant": "classic""#, with: #""defaultVariant": "compact""#)
                .replacingOccurrences(of: #""serve": "one-page""#, with: #""serve": "compact""#),
            true
        ),
        (
            "the split of checkout-layout",
            "flags/production/checkout-layout.json",
            TypedFile.checkoutLayout
                .replacingOccurrences(of: #""defaultVariant": "classic""#, with: #""defaultVariant": "compact""#)
                .replacingOccurrences(of: #""serve": "one-page""#, with: #""serve": "compact""#)
                .replacingOccurrences(
                    of: #""percentage": 50}, {"variant": "classic", "percentage": 50}"#,
                    with: #""percentage": 70}, {"variant": "classic", "percentage": 30}"#
                ),
            true
        ),
        (
            "a split written with its variant keys reordered",
            "flags/production/checkout-layout.json",
            TypedFile.checkoutLayout
                .replacingOccurrences(of: #""defaultVariant": "classic""#, with: #""defaultVariant": "compact""#)
                .replacingOccurrences(of: #""serve": "one-page""#, with: #""serve": "compact""#)
                .replacingOccurrences(
                    of: #"{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}"#,
                    with: #"{"percentage": 70.00, "variant": "compact"}, {"percentage": 30, "variant": "classic"}"#
                ),
            false
        ),
        (
            "the value of the object flag banner",
            "flags/production/banner.json",
            TypedFile.banner.replacingOccurrences(of: #""text": "Sale""#, with: #""text": "Big sale""#),
            true
        ),
    ]

    @Test func testAnInvalidTypedCommitIsRejectedWholeWithEveryError() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let repository = fixture.repository
        let good = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(good)
            // One file with three typed errors, next to a valid change that must not apply on its own.
            try repository.write(
                "flags/production/checkout-layout.json",
                #"{"active": true, "baseState": true, "variants": {"a": "x", "b": 2}, "defaultVariant": "z", "rules": []}"#)
            try repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let bad = try repository.commit("broken typed flag")
            try await fixture.waitUntilRejected(bad)
            let status = try await client.execute(uri: "/v1/status", method: .get)
            #expect(status.json["commit"] as? String == good)
            let rejected = status.json["rejected"] as? [String: Any] ?? [:]
            let pointers = (rejected["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String }.sorted()
            #expect(pointers == ["/baseState", "/defaultVariant", "/variants/b"])
            #expect(rejected["errorCount"] as? Int == 3)
            // The last good flags keep serving, the valid change in the same commit included.
            let response = try await evaluate(client, #"{"context": {"plan": "enterprise"}, "flags": ["checkout-layout", "dark-mode"]}"#)
            let flags = response.json["flags"] as? [String: Any]
            #expect(flags?["checkout-layout"] as? String == "one-page")
            #expect(flags?["dark-mode"] as? Bool == true)
        }
    }

    @Test func testAContextWithoutTheSplitAttributeFallsThroughAndNeverErrors() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            for context in [#"{}"#, #"{"userId": null}"#, #"{"userId": [1, 2]}"#, #"{"userId": {"id": 1}}"#] {
                let response = try await evaluate(client, #"{"context": \#(context), "flags": ["checkout-layout"], "details": true}"#)
                #expect(response.status == .ok, "\(context)")
                let entry = (response.json["flags"] as? [String: Any])?["checkout-layout"] as? [String: Any]
                #expect(entry?["value"] as? String == "classic", "\(context)")
                #expect(entry?["reason"] as? String == "DEFAULT", "\(context)")
            }
        }
    }

    @Test func testTypedChangesArePublishedAndKeyOrderIsNot() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", sseKeepAlive: .seconds(60)), seed: Self.seed)
        let repository = fixture.repository
        let first = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing(first)
            let port = try #require(client.port)
            let stream = EventStreamReader(port: port, path: "/v1/environments/production/stream")
            defer { stream.close() }
            try await stream.waitUntilConnected()

            var lastChange = first
            var published = 0
            for change in Self.changes {
                try repository.write(change.path, change.contents)
                let commit = try repository.commit(change.message)
                try await fixture.waitUntilServing(commit)
                let flag = String(change.path.split(separator: "/").last!.dropLast(5))
                if change.effective {
                    published += 1
                    // Events are in commit order: had an ineffective commit sent one, this would be that event.
                    let event = try await stream.waitForEvents(published)[published - 1]
                    #expect(event.id == commit, "\(change.message)")
                    #expect(event.data["changed"] as? [String] == [flag], "\(change.message)")
                    #expect(event.data["added"] as? [String] == [], "\(change.message)")
                    lastChange = commit
                }
                // `lastChange` moves with effective changes only.
                let status = try await client.execute(uri: "/v1/status", method: .get)
                let environments = status.json["environments"] as? [String: [String: Any]]
                #expect(environments?["production"]?["lastChange"] as? String == lastChange, "\(change.message)")
            }
            #expect(stream.events.count == Self.changes.filter(\.effective).count)
        }
    }

    @Test func testLastEventIDCatchUpSeesTypedChanges() async throws {
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(adminToken: "admin-secret", sseKeepAlive: .milliseconds(200)),
            seed: Self.seed
        )
        let repository = fixture.repository
        let first = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing(first)
            // Only a variant value and a default variant change.
            try repository.write("flags/production/page-size.json", Self.changes[1].contents)
            try repository.write("flags/production/checkout-layout.json", Self.changes[2].contents)
            let second = try repository.commit("typed values")
            try await fixture.waitUntilServing(second)
            // Only key order: production's last change stays `second`.
            try repository.write("flags/production/page-size.json", Self.changes[1].contents.replacingOccurrences(of: "\n", with: " "))
            try repository.write(
                "flags/production/banner.json",
                #"{"rules": [], "defaultVariant": "none", "variants": {"sale": {"ratio": 2.50, "text": "Sale"}, "none": {}}, "active": true}"#
            )
            let third = try repository.commit("reformat")
            try await fixture.waitUntilServing(third)
            let port = try #require(client.port)
            let path = "/v1/environments/production/stream"

            let behind = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", first)])
            defer { behind.close() }
            let event = try #require(try await behind.waitForEvents(1).first)
            #expect(event.id == second)
            #expect(event.data["changed"] as? [String] == ["checkout-layout", "page-size"])
            #expect(event.data["added"] as? [String] == [])

            let upToDate = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", second)])
            defer { upToDate.close() }
            try await eventually("two keep-alives arrive") { upToDate.blocks.filter { $0 == ": keep-alive" }.count >= 2 }
            #expect(upToDate.events.isEmpty)
        }
    }

    // MARK: - Webhooks

    @Test func testWebhooksForTypedChangesOnly() async throws {
        let webhookClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: WebhookDeliverer.httpClientConfiguration())
        let receiver = try await TestReceiver.start()
        // A change of `variants` or `defaultVariant` alone is a change (LoadedFlag's targeting fingerprint covers them).
        try await checkWebhooks(webhookClient: webhookClient, receiver: receiver)
        await receiver.stop()
        try await webhookClient.shutdown()
    }

    private func checkWebhooks(webhookClient: HTTPClient, receiver: TestReceiver) async throws {
        let fixture = try ServerFixture(webhookClient: webhookClient, seed: Self.seed)
        let repository = fixture.repository
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let created = try await client.execute(
                uri: "/v1/subscriptions",
                method: .post,
                headers: .bearer("admin-secret"),
                body: .string(#"{"url": "\#(receiver.url())", "environments": ["production"]}"#)
            )
            #expect(created.status == .created, "\(created.text)")

            var delivered = 0
            for change in Self.changes {
                try repository.write(change.path, change.contents)
                let commit = try repository.commit(change.message)
                try await fixture.waitUntilServing(commit)
                guard change.effective else { continue }
                delivered += 1
                // One change at a time, so that no two messages coalesce: the next commit waits until this message
                // has arrived and its delivery is recorded (a message still pending would be coalesced with the next).
                try await eventually("the webhook for \(change.message) arrives and is recorded") {
                    try receiver.requests.count >= delivered && fixture.database.pendingMessageCount() == 0
                }
                // Deliveries are in commit order: had an ineffective commit sent one, this would be that message.
                let data = receiver.requests[delivered - 1].json?["data"] as? [String: Any]
                let flag = String(change.path.split(separator: "/").last!.dropLast(5))
                #expect(data?["commit"] as? String == commit, "\(change.message)")
                #expect(data?["changed"] as? [String] == [flag], "\(change.message)")
            }
            #expect(receiver.requests.count == Self.changes.filter(\.effective).count)
        }
    }
}
