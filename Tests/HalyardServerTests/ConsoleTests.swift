//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HalyardServer
import HalyardService
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The web console under `/ui` (DESIGN §12), against a real server on loopback over a real git repository: every page
/// with its content and `data-test` hooks, escaping, the try form against `/evaluate`, and the login, cookie, CSRF and
/// 401/403 rules.
struct ConsoleTests {
    /// Flags with something to say: a rollout, a split, and a description that tries to run a script.
    static func seed(_ repository: GitRepository) throws {
        try repository.write("flags/production/new-checkout.json", FlagFile.plan("enterprise"))
        try repository.write(
            "flags/production/rollout.json",
            #"""
            {"description": "<script>alert(1)</script>", "active": true, "rules": [
              [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}],
              [{"type": "%", "percentage": 25, "attribute": "userId"}]]}
            """#
        )
        try repository.write(
            "flags/production/layout.json",
            #"""
            {"name": "Layout <b>", "active": true, "variants": {"compact": "compact", "classic": "classic"}, "defaultVariant": "classic",
             "metadata": {"owner": "<img src=x onerror=alert(2)>"},
             "rules": [{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}]}
            """#
        )
        try repository.write(
            "flags/staging/layout.json",
            #"{"active": true, "variants": {"compact": "compact", "classic": "classic"}, "defaultVariant": "compact", "rules": []}"#
        )
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The first capture of `pattern` in `text`.
    static func capture(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }

    static func unescape(_ html: String) -> String {
        html.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The `name=value` of each `Set-Cookie` header, by name, with the whole header.
    static func cookies(_ response: TestResponse) -> [String: (value: String, header: String)] {
        var cookies: [String: (String, String)] = [:]
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            cookies[String(pair[0])] = (pair.count > 1 ? String(pair[1]) : "", header)
        }
        return cookies
    }

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        return ByteBuffer(string: body)
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func testEveryPageShowsItsContent() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try fixture.repository.write(
            "flags/production/new-checkout.json",
            FlagFile.plan("enterprise").replacingOccurrences(of: "\"active\": true", with: "\"active\": false")
        )
        let second = try fixture.repository.commit("Switch <new-checkout> off & rest")
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing(second)
            try await client.execute(uri: "/ui", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(
                    response.headers[HTTPField.Name("Content-Security-Policy")!]
                        == "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
                )
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
                let page = response.text
                #expect(page.contains(#"<main data-test="page" data-page="overview">"#))
                #expect(page.contains("<title>Overview · Halyard</title>"))
                let served = Self.capture(#"data-test="served-commit">(.*?)</section>"#, in: page) ?? ""
                #expect(served.contains(String(second.prefix(7))))
                #expect(served.contains("Ada Lovelace"))
                #expect(served.contains("Switch &lt;new-checkout&gt; off &amp; rest"))
                #expect(page.contains(#"data-test="fetch-status""#))
                #expect(!page.contains(#"data-test="rejection""#))
                #expect(page.contains(#"data-test="environment" data-env="production""#))
                #expect(page.contains(#"<a href="/ui/environments/production">production</a>"#))
                #expect(page.contains(#"<span data-test="flag-count">3</span> flags"#))
            }
            try await client.execute(uri: "/ui/environments/production", method: .get) { response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains(#"data-page="environment""#))
                #expect(page.contains(#"data-live-env="production""#))
                #expect(Self.count(#"data-test="flag" "#, in: page) == 3)
                let rollout = Self.capture(#"data-flag="rollout">(.*?)</p>\n</li>"#, in: page) ?? ""
                #expect(rollout.contains(#"<p class="summary" data-test="flag-summary">on for enterprise + 25% of userId</p>"#))
                #expect(rollout.contains(#"data-test="flag-state">active</span>"#))
                #expect(rollout.contains("<li>group 2: <code>true</code> for 25% of users by userId</li>"))
                #expect(rollout.contains("last change"))
                let layout = Self.capture(#"data-flag="layout">(.*?)</p>\n</li>"#, in: page) ?? ""
                #expect(layout.contains("split 50/50 <code>compact</code>/<code>classic</code>"))
                let checkout = Self.capture(#"data-flag="new-checkout">(.*?)</p>\n</li>"#, in: page) ?? ""
                #expect(checkout.contains(#"data-test="flag-state">inactive</span>"#))
                #expect(checkout.contains(String(second.prefix(7))))
                #expect(checkout.contains("Ada Lovelace"))
            }
            try await client.execute(uri: "/ui/environments/production/flags/layout", method: .get) { response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains(#"data-page="flag""#))
                #expect(page.contains(#"data-test="flag-env" data-env="production""#))
                #expect(page.contains(#"data-test="flag-env" data-env="staging""#))
                let staging = Self.capture(#"data-env="staging">(.*?)</article>"#, in: page) ?? ""
                #expect(staging.contains("everybody: <code>compact</code> (<code>&quot;compact&quot;</code>) (default variant)"))
                let production = Self.capture(#"data-env="production">(.*?)</article>"#, in: page) ?? ""
                #expect(
                    production.contains("group 1: splits everybody 50/50 between <code>compact</code>/<code>classic</code> by <code>userId</code>")
                )
                #expect(page.contains(#"form method="post" action="/ui/environments/production/flags/layout/evaluate" data-test="try-form""#))
                #expect(Self.count(#"data-test="history-entry""#, in: page) == 1)
                // Untrusted names and metadata are text.
                #expect(page.contains("Layout &lt;b&gt;"))
                #expect(page.contains("&lt;img src=x onerror=alert(2)&gt;"))
                #expect(!page.contains("<img src=x"))
            }
            var diffHref = ""
            try await client.execute(uri: "/ui/environments/production/flags/new-checkout", method: .get) { response in
                let page = response.text
                #expect(Self.count(#"data-test="history-entry""#, in: page) == 2)
                diffHref = Self.unescape(Self.capture(#"data-test="history-diff" href="([^"]*)""#, in: page) ?? "")
                #expect(diffHref.hasPrefix("/ui/diff?from="))
                #expect(diffHref.hasSuffix("&to=" + second))
            }
            try await client.execute(uri: diffHref, method: .get) { response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains(#"data-page="diff""#))
                let diff = Self.capture(#"data-test="diff">(.*?)</section>"#, in: page) ?? ""
                #expect(diff.contains("Subscribers of <strong>production</strong> will be called to refresh."))
                #expect(diff.contains("<td><code>new-checkout</code></td><td>changed</td>"))
                #expect(diff.contains("<strong>switched off</strong>: everybody gets <code>false</code>"))
            }
            try await client.execute(uri: "/ui/diff?from=nope&to=" + second, method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("unknown revision &#39;nope&#39;"))
            }
            try await client.execute(uri: "/ui/environments/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains(#"data-page="error""#))
            }
            try await client.execute(uri: "/ui/static/console.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
            try await client.execute(uri: "/ui/static/favicon.svg", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/svg+xml")
            }
            try await client.execute(uri: "/ui/static/console.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("document.body.dataset.live = \"connected\""))
            }
        }
    }

    @Test func testAScriptInADescriptionIsText() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            for uri in ["/ui/environments/production", "/ui/environments/production/flags/rollout"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(uri)")
                    #expect(!response.text.contains("<script>alert"), "\(uri)")
                }
            }
        }
    }

    @Test func testARejectedCommitShowsEveryError() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            try fixture.repository.write("flags/production/broken.json", #"{"active": "yes", "rules": []}"#)
            try fixture.repository.write(
                "flags/staging/bad-rule.json",
                #"{"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "~", "comparator": "x"}]]}"#
            )
            let rejected = try fixture.repository.commit("Break <two> flags")
            try await fixture.waitUntilRejected(rejected)
            let errors = fixture.store.status.rejected?.errors ?? []
            #expect(errors.count >= 2)
            try await client.execute(uri: "/ui", method: .get) { response in
                let page = response.text
                let rejection = Self.capture(#"data-test="rejection">(.*?)</section>"#, in: page) ?? ""
                #expect(rejection.contains(String(rejected.prefix(7))))
                #expect(rejection.contains("Break &lt;two&gt; flags"))
                #expect(Self.count(#"data-test="rejection-error""#, in: rejection) == errors.count)
                for error in errors {
                    let item = "<code class=\"file\">\(error.file)</code> <code class=\"pointer\">\(error.pointer)</code>"
                    #expect(rejection.contains(item), "\(error)")
                }
            }
        }
    }

    @Test func testTheTryFormAnswersLikeEvaluate() async throws {
        let fixture = try ServerFixture(seed: Self.seed)
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let page = try await client.execute(uri: "/ui/environments/production/flags/layout", method: .get)
            let csrf = try #require(Self.capture(#"name="csrf" value="([0-9a-f]{64})""#, in: page.text))
            let cookie = try #require(Self.cookies(page)["halyard_csrf"])
            #expect(cookie.value == csrf)
            #expect(cookie.header.contains("HttpOnly") && cookie.header.contains("SameSite=Strict") && cookie.header.contains("Path=/ui"))
            var headers = Self.formHeaders
            headers[.cookie] = "halyard_csrf=\(csrf)"
            let cases: [(flag: String, context: String)] = [
                ("layout", #"{"userId": "user-1"}"#), ("layout", #"{"userId": "user-7"}"#), ("layout", "{}"),
                ("rollout", #"{"plan": "enterprise"}"#), ("rollout", #"{"plan": "free", "userId": "u-3"}"#), ("new-checkout", "{}"),
            ]
            for (flag, context) in cases {
                let evaluation = try await client.execute(
                    uri: "/v1/environments/production/evaluate",
                    method: .post,
                    body: .string(#"{"context": \#(context), "flags": ["\#(flag)"], "details": true}"#)
                )
                let expected = try #require((evaluation.json["flags"] as? [String: Any])?[flag] as? [String: Any])
                let expectedValue = try JSONSerialization.data(withJSONObject: expected["value"]!, options: [.fragmentsAllowed])
                let response = try await client.execute(
                    uri: "/ui/environments/production/flags/\(flag)/evaluate",
                    method: .post,
                    headers: headers,
                    body: Self.form([("csrf", csrf), ("context", context)])
                )
                #expect(response.status == .ok)
                let result = try #require(Self.capture(#"data-test="try-result">(.*?)</dl>"#, in: response.text))
                let value = Self.unescape(Self.capture(#"data-test="try-value">(.*?)</code>"#, in: result) ?? "")
                #expect(value == String(decoding: expectedValue, as: UTF8.self), "\(flag) \(context)")
                #expect(Self.capture(#"data-test="try-variant">(.*?)</dd>"#, in: result) == expected["variant"] as? String, "\(flag) \(context)")
                #expect(Self.capture(#"data-test="try-reason">(.*?)</dd>"#, in: result) == expected["reason"] as? String, "\(flag) \(context)")
                // The group that decided, numbered from 1 as `halyard eval --explain` does; empty when none did.
                let group = Self.capture(#"data-test="try-group">(.*?)</dd>"#, in: result) ?? "?"
                let decided = ["TARGETING_MATCH", "SPLIT"].contains(expected["reason"] as? String)
                #expect(decided ? Int(group) != nil : group.isEmpty, "\(flag) \(context)")
                if flag == "rollout" { #expect(group == (context.contains("enterprise") ? "1" : decided ? "2" : ""), "\(context)") }
            }
            // A bad context is an error on the page, not a 5xx.
            let bad = try await client.execute(
                uri: "/ui/environments/production/flags/layout/evaluate",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("context", "[1, 2")])
            )
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains(#"data-test="try-error""#))
            // Without the CSRF field, with a wrong one, or from another origin: refused.
            var crossOrigin = headers
            crossOrigin[.origin] = "http://evil.example"
            for (requestHeaders, body) in [
                (headers, Self.form([("context", "{}")])), (headers, Self.form([("csrf", String(repeating: "0", count: 64)), ("context", "{}")])),
                (Self.formHeaders, Self.form([("csrf", csrf), ("context", "{}")])), (crossOrigin, Self.form([("csrf", csrf), ("context", "{}")])),
            ] {
                let response = try await client.execute(
                    uri: "/ui/environments/production/flags/layout/evaluate",
                    method: .post,
                    headers: requestHeaders,
                    body: body
                )
                #expect(response.status == .forbidden)
                #expect(!response.text.contains(#"data-test="try-result""#))
            }
        }
    }

    @Test func testLoginCookiesAndRoles() async throws {
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(adminToken: "admin-secret", readTokens: ["reader-1"]),
            seed: Self.seed
        )
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            for uri in ["/ui", "/ui/environments/production", "/ui/diff", "/ui/subscriptions"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .seeOther, "\(uri)")
                    #expect(response.headers[.location]?.hasPrefix("/ui/login?next=") == true, "\(uri)")
                    #expect(!response.text.contains("data-test=\"flag\""))
                }
            }
            try await client.execute(uri: "/ui/environments/production/events", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            let loginPage = try await client.execute(uri: "/ui/login?next=%2Fui%2Fenvironments%2Fproduction", method: .get)
            #expect(loginPage.status == .ok)
            #expect(loginPage.text.contains(#"data-test="login-form""#))
            let csrf = try #require(Self.capture(#"name="csrf" value="([0-9a-f]{64})""#, in: loginPage.text))
            var headers = Self.formHeaders
            headers[.cookie] = "halyard_csrf=\(csrf)"
            // A login without the CSRF cookie, or with a wrong token.
            let noCookie = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: Self.formHeaders,
                body: Self.form([("csrf", csrf), ("token", "reader-1")])
            )
            #expect(noCookie.status == .forbidden)
            #expect(Self.cookies(noCookie)["halyard_session"] == nil)
            let wrong = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("token", "reader-2")])
            )
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains(#"data-test="login-error""#))
            #expect(Self.cookies(wrong)["halyard_session"] == nil)
            // A read token: the read pages, not the admin page.
            let reader = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("token", "reader-1"), ("next", "/ui/environments/production")])
            )
            #expect(reader.status == .seeOther)
            #expect(reader.headers[.location] == "/ui/environments/production")
            let session = try #require(Self.cookies(reader)["halyard_session"])
            #expect(session.header.contains("HttpOnly"))
            #expect(session.header.contains("SameSite=Strict"))
            #expect(session.header.contains("Path=/ui"))
            #expect(!session.header.contains("Secure"))
            #expect(!session.header.contains("reader-1"))
            let readerCookie: HTTPFields = [.cookie: "halyard_session=\(session.value)"]
            let environment = try await client.execute(uri: "/ui/environments/production", method: .get, headers: readerCookie)
            #expect(environment.status == .ok)
            #expect(environment.text.contains(#"data-test="flag" data-flag="rollout""#))
            #expect(!environment.text.contains("reader-1"))
            try await client.execute(uri: "/ui/subscriptions", method: .get, headers: readerCookie) { response in
                #expect(response.status == .forbidden)
                #expect(response.text.contains(#"data-page="error""#))
            }
            // Logging out needs the session's CSRF token.
            let sessionCSRF = try #require(Self.capture(#"name="csrf" value="([0-9a-f]{64})""#, in: environment.text))
            #expect(sessionCSRF != csrf)
            var logoutHeaders = Self.formHeaders
            logoutHeaders[.cookie] = "halyard_session=\(session.value)"
            let forged = try await client.execute(uri: "/ui/logout", method: .post, headers: logoutHeaders, body: Self.form([("csrf", csrf)]))
            #expect(forged.status == .forbidden)
            let logout = try await client.execute(uri: "/ui/logout", method: .post, headers: logoutHeaders, body: Self.form([("csrf", sessionCSRF)]))
            #expect(logout.status == .seeOther)
            #expect(Self.cookies(logout)["halyard_session"]?.header.contains("Max-Age=0") == true)
            try await client.execute(uri: "/ui", method: .get, headers: readerCookie) { response in
                #expect(response.status == .seeOther)
            }
            // The admin token: the subscriptions page with each subscription and its state.
            let created = try await client.execute(
                uri: "/v1/subscriptions",
                method: .post,
                headers: .bearer("admin-secret"),
                body: .string(#"{"url": "http://127.0.0.1:9/<hook>", "environments": ["production"]}"#)
            )
            #expect(created.status == .created)
            let admin = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("token", "admin-secret")])
            )
            #expect(admin.status == .seeOther)
            #expect(admin.headers[.location] == "/ui")
            let adminSession = try #require(Self.cookies(admin)["halyard_session"])
            try await client.execute(uri: "/ui/subscriptions", method: .get, headers: [.cookie: "halyard_session=\(adminSession.value)"]) {
                response in
                #expect(response.status == .ok)
                let page = response.text
                #expect(page.contains(#"data-page="subscriptions""#))
                #expect(page.contains("data-test=\"subscription\" data-id=\"\(created.json["id"] as? String ?? "?")\""))
                #expect(page.contains("http://127.0.0.1:9/&lt;hook&gt;"))
                #expect(page.contains(">active</span>"))
                #expect(!page.contains("whsec_"))
            }
        }
    }

    @Test func testOpenConsoleAndAdminRules() async throws {
        // No read tokens: the read pages are open; without an admin token the admin page is off (403), as the JSON route.
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(), seed: Self.seed)
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            try await client.execute(uri: "/ui/environments/production", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/ui/subscriptions", method: .get) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/ui/login", method: .get) { response in
                #expect(response.text.contains("No tokens are configured"))
            }
        }
    }

    @Test func testTheConsoleCanBeSwitchedOff() async throws {
        var configuration = HTTPAPIConfiguration()
        configuration.console.enabled = false
        let fixture = try ServerFixture(configuration: configuration, seed: Self.seed)
        try await fixture.application().test(.router) { client in
            try await fixture.waitUntilServing()
            for uri in ["/ui", "/ui/login", "/ui/static/console.js"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                }
            }
            try await client.execute(uri: "/v1/environments/production/flags", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func testCookiesAreSecureBehindAnHTTPSPublicURL() async throws {
        let repository = try GitRepository()
        try Self.seed(repository)
        try repository.commit("initial flags")
        var logger = Logger(label: "halyard-console-tests")
        logger.logLevel = .critical
        let service = try HalyardService(
            configuration: ServiceConfiguration(
                repository: WatcherConfiguration(source: .local(path: repository.path), branch: "main"),
                http: ServiceConfiguration.HTTP(publicURL: "https://flags.example.com", auth: ServiceConfiguration.Auth(readTokens: ["reader-1"])),
                notify: ServiceConfiguration.Notify(delivers: false),
                dataDirectory: try TemporaryDirectory.make(prefix: "halyard-console-data"),
                logLevel: .critical
            ),
            logger: logger
        )
        try await Application(router: service.api.makeRouter(), logger: logger).test(.router) { client in
            let login = try await client.execute(uri: "/ui/login", method: .get)
            let cookie = try #require(Self.cookies(login)["halyard_csrf"])
            #expect(cookie.header.hasSuffix("; Path=/ui; HttpOnly; SameSite=Strict; Secure"))
            let csrf = try #require(Self.capture(#"name="csrf" value="([0-9a-f]{64})""#, in: login.text))
            var headers = Self.formHeaders
            headers[.cookie] = "halyard_csrf=\(csrf)"
            let reader = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("token", "reader-1")])
            )
            #expect(Self.cookies(reader)["halyard_session"]?.header.contains("; Secure") == true)
        }
    }

    @Test func testTheEventStreamAcceptsTheConsoleCookie() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(readTokens: ["reader-1"]), seed: Self.seed)
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let login = try await client.execute(uri: "/ui/login", method: .get)
            let csrf = try #require(Self.capture(#"name="csrf" value="([0-9a-f]{64})""#, in: login.text))
            var headers = Self.formHeaders
            headers[.cookie] = "halyard_csrf=\(csrf)"
            let reader = try await client.execute(
                uri: "/ui/login",
                method: .post,
                headers: headers,
                body: Self.form([("csrf", csrf), ("token", "reader-1")])
            )
            let session = try #require(Self.cookies(reader)["halyard_session"])
            // HEAD answers the stream's status and headers without opening it.
            try await client.execute(uri: "/ui/environments/production/events", method: .head, headers: [.cookie: "halyard_session=\(session.value)"])
            {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
            }
        }
    }
}
