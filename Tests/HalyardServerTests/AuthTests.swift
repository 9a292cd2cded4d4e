//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation
import HTTPTypes
import HalyardServer
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Testing

struct AuthTests {
    @Test func testReadTokens() async throws {
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(adminToken: "admin-secret", readTokens: ["reader-1", "reader-2"])
        )
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            let uri = "/v1/environments/production/flags"
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(response.error?.contains("missing read token") == true)
            }
            for headers: HTTPFields in [.bearer("reader-3"), [.init("X-API-Key")!: "reader"], [.authorization: "Basic cmVhZGVyLTE="]] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized, "\(headers)")
                }
            }
            for headers: HTTPFields in [.bearer("reader-1"), .bearer("reader-2"), [.init("X-API-Key")!: "reader-2"], .bearer("admin-secret")] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .ok, "\(headers)")
                }
            }
            try await client.execute(
                uri: "/v1/environments/production/evaluate",
                method: .post,
                headers: [.init("X-API-Key")!: "nope"],
                body: .string("{}")
            ) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/environments/production/flags/dark-mode", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            // Operational routes stay open (the status is a read route: SecurityTests).
            for open in ["/healthz", "/readyz", "/metrics"] {
                try await client.execute(uri: open, method: .get) { response in
                    #expect(response.status == .ok, "\(open)")
                }
            }
        }
    }

    @Test func testRefreshNeedsTheAdminToken() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/refresh", method: .post) { response in
                #expect(response.status == .unauthorized)
                #expect(response.error == "missing admin token: send Authorization: Bearer <token>")
            }
            try await client.execute(uri: "/v1/refresh", method: .post, headers: .bearer("wrong")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.error == "invalid admin token")
            }
            try await client.execute(uri: "/v1/refresh", method: .post, headers: .bearer("admin-secret-")) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(fixture.refreshes.value == 0)
            try await client.execute(uri: "/v1/refresh", method: .post, headers: .bearer("admin-secret")) { response in
                #expect(response.status == .accepted)
                #expect(response.json["status"] as? String == "refresh requested")
            }
            #expect(fixture.refreshes.value == 1)
        }
    }

    @Test func testAdminRoutesAreOffWithoutAnAdminToken() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: nil))
        try await fixture.application().test(.router) { client in
            for (uri, method) in [("/v1/refresh", HTTPRequest.Method.post), ("/v1/subscriptions", .get), ("/v1/subscriptions/x", .delete)] {
                try await client.execute(uri: uri, method: method, headers: .bearer("anything")) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.error == "admin API disabled: set auth.adminToken")
                }
            }
            #expect(fixture.refreshes.value == 0)
        }
    }

    @Test func testGitHubHooks() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let body = #"{"ref": "refs/heads/main", "after": "0123"}"#
            let signature = Self.githubSignature(body, secret: "hook-secret")
            let signatureHeader = HTTPField.Name("X-Hub-Signature-256")!
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [signatureHeader: signature], body: .string(body)) {
                #expect($0.status == .accepted)
                #expect($0.json["status"] as? String == "refresh requested")
            }
            #expect(fixture.refreshes.value == 1)
            let bad: [String] = [
                Self.githubSignature(body, secret: "other-secret"),
                Self.githubSignature(body + " ", secret: "hook-secret"),
                "sha256=",
                "sha1=" + String(signature.dropFirst(7)),
                "sha256=zz" + String(signature.dropFirst(9)),
                String(signature.dropLast(2)),
            ]
            for header in bad {
                try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [signatureHeader: header], body: .string(body)) {
                    #expect($0.status == .unauthorized, "\(header)")
                    #expect($0.error != nil)
                }
            }
            try await client.execute(uri: "/v1/hooks/git", method: .post, body: .string(body)) {
                #expect($0.status == .unauthorized)
                #expect($0.error?.contains("missing webhook signature") == true)
            }
            #expect(fixture.refreshes.value == 1)
        }
    }

    @Test func testGitLabHooks() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.router) { client in
            let tokenHeader = HTTPField.Name("X-Gitlab-Token")!
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [tokenHeader: "hook-secret"], body: .string("{}")) {
                #expect($0.status == .accepted)
            }
            for wrong in ["hook-secre", "hook-secret2", "", "HOOK-SECRET"] {
                try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [tokenHeader: wrong], body: .string("{}")) {
                    #expect($0.status == .unauthorized, "\(wrong)")
                    #expect($0.error == "invalid X-Gitlab-Token")
                }
            }
            #expect(fixture.refreshes.value == 1)
        }
    }

    @Test func testHooksAreOffWithoutASecret() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", gitHookSecret: nil))
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/hooks/git", method: .post, headers: [.init("X-Gitlab-Token")!: ""], body: .string("{}")) {
                #expect($0.status == .forbidden)
                #expect($0.error == "git hook disabled: set auth.gitHookSecret")
            }
        }
    }

    @Test func testSignedHookAppliesANewCommit() async throws {
        // With an hour between polls, only the hook's refresh can make the watcher see the commit.
        let fixture = try ServerFixture(localPollInterval: .seconds(3600))
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            try fixture.repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let commit = try fixture.repository.commit("dark mode off")
            let body = "{}"
            try await client.execute(
                uri: "/v1/hooks/git",
                method: .post,
                headers: [.init("X-Hub-Signature-256")!: Self.githubSignature(body, secret: "hook-secret")],
                body: .string(body)
            ) {
                #expect($0.status == .accepted)
            }
            try await fixture.waitUntilServing(commit)
        }
    }

    static func githubSignature(_ body: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
