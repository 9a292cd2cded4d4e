//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardRules
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import HalyardServer

/// The bulk answers (`/evaluate` of every flag, OFREP bulk) are copied from pre-encoded pieces
/// (``EncodedEnvironment``); they must be byte for byte what writing each value with ``JSONWriter`` gives.
struct BulkEncodingTests {
    /// 1,000 flags of every shape: boolean flags on, off, inactive and targeted; typed flags of each kind, with numbers
    /// as written, escapes and non-ASCII text; metadata of every kind, `commit` among it.
    static func seed(_ repository: GitRepository) throws {
        for index in 0..<1_000 {
            let id = String(format: "flag-%04d", index) + (index % 13 == 0 ? ".v2_x" : "")
            try repository.write("flags/production/\(id).json", flagFile(index))
        }
        try repository.write("flags/staging/only.json", FlagFile.everybody)
    }

    static func flagFile(_ index: Int) -> String {
        let metadata: String
        switch index % 5 {
        case 0: metadata = ""
        case 1: metadata = #", "metadata": {"owner": "team \"\#(index % 7)\" — ünïcode\n", "priority": \#(index), "ratio": 0.5}"#
        case 2: metadata = #", "metadata": {"commit": "theirs", "launched": true, "links": ["x"], "nested": {"a": 1}, "none": null}"#
        case 3: metadata = #", "metadata": {"ticket": "SHOP-\#(index)", "big": 9007199254740993, "float": 10.0}"#
        default: metadata = #", "metadata": {}"#
        }
        switch index % 8 {
        case 0:
            return #"{"active": true, "rules": [[]]\#(metadata)}"#
        case 1:
            return #"{"active": false, "baseState": true, "rules": [[]]\#(metadata)}"#
        case 2:
            return #"""
                {"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}],
                 [{"type": "%", "percentage": 40, "attribute": "userId"}]]\#(metadata)}
                """#
        case 3:
            return #"{"active": true, "baseState": true, "rules": []\#(metadata)}"#
        case 4:
            return #"""
                {"active": true, "variants": {"classic": "classic", "one-page": "one \"page\"\t\u0001", "compact": "kompakt ✓"},
                 "defaultVariant": "classic",
                 "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
                           {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 50},
                                                                                        {"variant": "classic", "percentage": 50}]}}]\#(metadata)}
                """#
        case 5:
            return #"""
                {"active": true, "variants": {"small": 10, "exact": 10.0, "huge": 9007199254740993, "tiny": 1e-7},
                 "defaultVariant": "huge", "rules": [{"when": [{"type": "%", "percentage": 50, "attribute": "userId"}], "serve": "tiny"}]\#(metadata)}
                """#
        case 6:
            return #"""
                {"active": false, "variants": {"none": {}, "banner": {"text": "Sale: 20% off", "level": "info", "tags": ["a", "b"]}},
                 "defaultVariant": "banner", "rules": []\#(metadata)}
                """#
        default:
            return #"""
                {"active": true, "variants": {"off": false, "on": true}, "defaultVariant": "off",
                 "rules": [{"when": [{"type": "filter", "attribute": "customer", "operator": "in", "comparator": ["Disney", "Pop Tarts"]}], "serve": "on"}]\#(metadata)}
                """#
        }
    }

    static let contexts = [
        #"{"context": {"plan": "enterprise", "userId": 42, "customer": "Disney", "targetingKey": "user-42"}}"#,
        #"{"context": {"plan": "team", "userId": "u-7"}}"#,
        #"{}"#,
    ]

    /// The `/evaluate` answer for every flag, written value by value as the route did before the pre-encoded pieces.
    static func expectedEvaluate(_ environment: EnvironmentSnapshot, _ context: EvaluationContext, details: Bool) -> String {
        var json = JSONWriter()
        json.objectStart()
        json.key("flags")
        json.objectStart()
        for id in environment.sortedIDs {
            let flag = environment.flags[id]!.flag
            let resolution = flag.resolve(context)
            json.key(id)
            if details {
                json.objectStart()
                json.key("value")
            }
            if flag.isTyped { json.json(flag.value(of: resolution)) } else { json.bool(flag.bool(of: resolution)) }
            if details {
                json.key("variant")
                json.string(flag.variant(of: resolution))
                json.key("reason")
                json.string(resolution.reason.rawValue)
                json.objectEnd()
            }
        }
        json.objectEnd()
        json.objectEnd()
        return json.text
    }

    /// The OFREP bulk answer, written value by value as the route did before the pre-encoded pieces.
    static func expectedOFREP(_ environment: EnvironmentSnapshot, _ context: EvaluationContext, commit: String) -> String {
        var json = JSONWriter()
        json.objectStart()
        json.key("flags")
        json.arrayStart()
        for id in environment.sortedIDs {
            let flag = environment.flags[id]!.flag
            json.ofrepEvaluation(flagKey: id, flag.resolve(context), flag: flag, commit: commit)
        }
        json.arrayEnd()
        json.key("metadata")
        json.objectStart()
        json.key("environment")
        json.string(environment.name)
        json.key("commit")
        json.string(commit)
        json.objectEnd()
        json.key("eventStreams")
        json.arrayStart()
        json.objectStart()
        json.key("type")
        json.string("sse")
        json.key("endpoint")
        json.objectStart()
        json.key("requestUri")
        json.string("/environments/\(environment.name)/ofrep/v1/events")
        json.objectEnd()
        json.objectEnd()
        json.arrayEnd()
        json.objectEnd()
        return json.text
    }

    @Test func bulkAnswersAreByteForByteTheValueByValueOnes() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let environment = try #require(fixture.store.current?.snapshot.environments["production"])
            #expect(environment.flags.count == 1_000)
            for body in Self.contexts {
                let request = try EvaluateRequest(body: ByteBuffer(string: body))
                let context = EvaluationContext(request.attributes)
                for details in [false, true] {
                    let withDetails = details ? String(body.dropLast()) + (body == "{}" ? "" : ",") + #""details": true}"# : body
                    let response = try await client.execute(
                        uri: "/v1/environments/production/evaluate",
                        method: .post,
                        body: .string(withDetails)
                    )
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(response.text == Self.expectedEvaluate(environment, context, details: details), "details \(details), \(body)")
                }
                let ofrep = try await client.execute(
                    uri: "/environments/production/ofrep/v1/evaluate/flags",
                    method: .post,
                    body: .string(body)
                )
                #expect(ofrep.status == .ok)
                #expect(ofrep.text == Self.expectedOFREP(environment, context, commit: head), "\(body)")
            }
        }
    }

    @Test func aNewCommitIsEncodedAfresh() async throws {
        let fixture = try ServerFixture()
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let uri = "/v1/environments/production/evaluate"
            let context = #"{"context": {"plan": "enterprise"}}"#
            let before = try await client.execute(uri: uri, method: .post, body: .string(context))
            #expect(before.text == #"{"flags":{"dark-mode":true,"new-checkout":true}}"#)
            try fixture.repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            try fixture.repository.write("flags/production/a-new-one.json", FlagFile.everybody)
            let change = try fixture.repository.commit("dark mode off, a new flag")
            try await fixture.waitUntilServing(change)
            let after = try await client.execute(uri: uri, method: .post, body: .string(context))
            #expect(after.text == #"{"flags":{"a-new-one":true,"dark-mode":false,"new-checkout":true}}"#)
            let ofrep = try await client.execute(
                uri: "/environments/production/ofrep/v1/evaluate/flags",
                method: .post,
                body: .string(context)
            )
            #expect(ofrep.text.contains(#"{"key":"dark-mode","value":false,"reason":"STATIC","variant":"off","metadata":{"commit":"\#(change)"}}"#))
        }
    }
}
