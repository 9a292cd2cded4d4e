//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardServer
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct FlagRoutesTests {
    @Test func testFlagsOfAnEnvironment() async throws {
        let fixture = try ServerFixture()
        let head = try fixture.repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(head)
            let digest = fixture.store.current!.snapshot.environments["production"]!.digest
            try await client.execute(uri: "/v1/environments/production/flags", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.eTag] == "\"\(digest)\"")
                let json = response.json
                #expect(json["environment"] as? String == "production")
                #expect(json["commit"] as? String == head)
                #expect(json["digest"] as? String == digest)
                let flags = json["flags"] as? [String: [String: Any]] ?? [:]
                #expect(Set(flags.keys) == ["new-checkout", "dark-mode"])
                let checkout = flags["new-checkout"] ?? [:]
                #expect(checkout["id"] as? String == "new-checkout")
                #expect(checkout["name"] as? String == "new-checkout")
                #expect(checkout["active"] as? Bool == true)
                #expect(checkout["baseState"] as? Bool == false)
                #expect((checkout["rules"] as? [[Any]])?.count == 1)
            }
            // The cached body is served again, byte for byte.
            let first = try await client.execute(uri: "/v1/environments/production/flags", method: .get)
            let second = try await client.execute(uri: "/v1/environments/production/flags", method: .get)
            #expect(first.body == second.body)
        }
    }

    @Test func testOneFlag() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            try await client.execute(uri: "/v1/environments/production/flags/new-checkout", method: .get) { response in
                #expect(response.status == .ok)
                let json = response.json
                #expect(json["id"] as? String == "new-checkout")
                #expect(json["description"] as? String == "")
                #expect(json["metadata"] as? [String: Any] != nil)
                let rule = ((json["rules"] as? [[[String: Any]]])?.first?.first) ?? [:]
                #expect(rule["type"] as? String == "filter")
                #expect(rule["attribute"] as? String == "plan")
            }
            try await client.execute(uri: "/v1/environments/production/flags/missing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.error == #"unknown flag "missing" in environment "production""#)
            }
            try await client.execute(uri: "/v1/environments/qa/flags/new-checkout", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.error == #"unknown environment "qa""#)
            }
        }
    }

    @Test func testETagAndIfNoneMatch() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let digest = fixture.store.current!.snapshot.environments["production"]!.digest
            let uri = "/v1/environments/production/flags"
            for header in ["\"\(digest)\"", "W/\"\(digest)\"", "\"other\", \"\(digest)\"", "*", "\"a\",W/\"\(digest)\""] {
                try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: header]) { response in
                    #expect(response.status == .notModified, "If-None-Match: \(header)")
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.eTag] == "\"\(digest)\"")
                }
            }
            for header in ["\"other\"", "W/other", ""] {
                try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: header]) { response in
                    #expect(response.status == .ok, "If-None-Match: \(header)")
                }
            }
            // Staging has its own digest.
            try await client.execute(uri: "/v1/environments/staging/flags", method: .get, headers: [.ifNoneMatch: "\"\(digest)\""]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func testApplyRejectAndRecover() async throws {
        let fixture = try ServerFixture()
        let repository = fixture.repository
        let first = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing(first)

            // A good commit applies.
            try repository.write("flags/production/new-checkout.json", FlagFile.everybody)
            let second = try repository.commit("roll out new-checkout")
            try await fixture.waitUntilServing(second)
            try await client.execute(uri: "/v1/environments/production/evaluate", method: .post, body: .string(#"{"context": {}}"#)) {
                #expect($0.json["flags"] as? [String: Bool] == ["new-checkout": true, "dark-mode": true])
            }

            // A bad commit is rejected; the flags stay as they were.
            try repository.write("flags/production/dark-mode.json", #"{"active": true, "rules": [], "baseSate": true}"#)
            let bad = try repository.commit("typo")
            try await fixture.waitUntilRejected(bad)
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let json = response.json
                #expect(json["commit"] as? String == second)
                let rejected = json["rejected"] as? [String: Any] ?? [:]
                #expect(rejected["commit"] as? String == bad)
                #expect(rejected["at"] is String)
                let errors = rejected["errors"] as? [[String: Any]] ?? []
                #expect(errors.count >= 1)
                #expect(errors.first?["file"] as? String == "flags/production/dark-mode.json")
                #expect(errors.first?["pointer"] is String)
                #expect((errors.first?["message"] as? String)?.contains("baseSate") == true)
            }
            try await client.execute(uri: "/v1/environments/production/flags", method: .get) { response in
                #expect(response.json["commit"] as? String == second)
            }

            // The next good commit applies and clears the rejection.
            try repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let fixed = try repository.commit("fix typo")
            try await fixture.waitUntilServing(fixed)
            try await client.execute(uri: "/v1/status", method: .get) { response in
                let json = response.json
                #expect(json["commit"] as? String == fixed)
                #expect(json["rejected"] == nil)
                let environments = json["environments"] as? [String: [String: Any]] ?? [:]
                #expect(environments["production"]?["lastChange"] as? String == fixed)
                #expect(environments["staging"]?["lastChange"] as? String == first)
            }
            try await client.execute(uri: "/v1/environments/production/flags/dark-mode", method: .get) { response in
                #expect((response.json["rules"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func testEvaluate() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let uri = "/v1/environments/production/evaluate"
            try await client.execute(uri: uri, method: .post, body: .string(#"{"context": {"plan": "Enterprise"}}"#)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.json["flags"] as? [String: Bool] == ["new-checkout": true, "dark-mode": true])
            }
            try await client.execute(uri: uri, method: .post, body: .string(#"{"context": {"plan": "free"}, "flags": ["new-checkout"]}"#)) {
                #expect($0.text == #"{"flags":{"new-checkout":false}}"#)
            }
            // Unknown ids are false; duplicates appear once.
            let body = #"{"context": {"plan": "enterprise"}, "flags": ["new-checkout", "nope", "new-checkout"]}"#
            try await client.execute(uri: uri, method: .post, body: .string(body)) {
                #expect($0.json["flags"] as? [String: Bool] == ["new-checkout": true, "nope": false])
            }
            // No context is an empty context; an empty flag list evaluates nothing.
            try await client.execute(uri: uri, method: .post, body: .string(#"{"flags": []}"#)) {
                #expect($0.text == #"{"flags":{}}"#)
            }
            try await client.execute(uri: uri, method: .post, body: .string(#"{}"#)) {
                #expect($0.json["flags"] as? [String: Bool] == ["new-checkout": false, "dark-mode": true])
            }
        }
    }
}
