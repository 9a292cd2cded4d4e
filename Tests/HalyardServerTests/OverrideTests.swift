//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardNotify
import HalyardService
import HalyardSync
import HalyardTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// Break-glass overrides end to end (DESIGN §14): a real service following a real remote, on a real port, with a real
/// webhook receiver.
///
/// Serialized: the PostgreSQL cases may start the test cluster, whose daemon must not inherit the pipe of a `git` run
/// by a test beside it (that `git` would then never seem to end).
@Suite(.serialized) struct OverrideTests {
    /// The remote is gone, and an override is still served at once and published; ending it publishes again.
    @Test(arguments: OverrideHarness.StateKind.allCases)
    func servedAndPublishedWhileTheRemoteIsDown(state: OverrideHarness.StateKind) async throws {
        let harness = try await OverrideHarness.start(state)
        let served = try await harness.running()
        defer { Task { await served.stop() } }
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: served) == true)

        let listingBefore = try await harness.call(.GET, "/v1/environments/production/flags", on: served, token: "read-token")
        #expect(harness.listedActive("new-checkout", listingBefore) == true)
        try harness.removeRemote()
        try await eventually("a fetch fails") { served.service.store.status.lastFetchError != nil }

        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: served,
            body: [
                "environment": "production", "flag": "new-checkout", "active": false, "reason": "checkout fails for enterprise", "expiresIn": "1h",
            ]
        )
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        #expect(id.hasPrefix("ovr_"))
        #expect(created.json["active"] as? Bool == false)
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: served) == false)
        // The listing of the same commit follows: another body and another ETag.
        let listing = try await harness.call(.GET, "/v1/environments/production/flags", on: served, token: "read-token")
        #expect(harness.listedActive("new-checkout", listing) == false)
        #expect(listing.json["commit"] as? String == harness.initialCommit)
        #expect(listing.etag != nil && listing.etag != listingBefore.etag)

        let message = try await harness.waitForMessage(1, recordedOn: served)
        #expect(message["changed"] as? [String] == ["new-checkout"])
        #expect(message["commit"] as? String == harness.initialCommit)
        #expect(message["previousCommit"] as? String == harness.initialCommit)

        let status = try await harness.call(.GET, "/v1/status", on: served)
        let overrides = try #require(status.json["overrides"] as? [[String: Any]])
        #expect(overrides.map { $0["id"] as? String } == [id])

        let ended = try await harness.call(.DELETE, "/v1/overrides/\(id)", on: served)
        #expect(ended.status == 200, "\(ended.text)")
        #expect(ended.json["endReason"] as? String == "deleted")
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: served) == true)
        let second = try await harness.waitForMessage(2)
        #expect(second["changed"] as? [String] == ["new-checkout"])
        #expect(second["previousCommit"] as? String == harness.initialCommit)

        let again = try await harness.call(.DELETE, "/v1/overrides/\(id)", on: served)
        #expect(again.status == 409)
        #expect(again.error?.contains("already ended") == true)
        let inEffect = try await harness.call(.GET, "/v1/overrides", on: served)
        #expect((inEffect.json["overrides"] as? [Any])?.isEmpty == true)
        let audit = try await harness.call(.GET, "/v1/overrides?all=true", on: served)
        let all = try #require(audit.json["overrides"] as? [[String: Any]])
        #expect(all.first?["id"] as? String == id)
        #expect(all.first?["reason"] as? String == "checkout fails for enterprise")
        #expect(all.first?["endedAt"] is String)
        await served.stop()
        await harness.stop()
    }

    /// A restart on the same data directory serves the override again and sends nothing twice: the next message is
    /// the next change.
    @Test(arguments: OverrideHarness.StateKind.allCases)
    func survivesARestart(state: OverrideHarness.StateKind) async throws {
        let harness = try await OverrideHarness.start(state)
        let first = try await harness.running()
        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: first,
            body: [
                "environment": "production", "flag": "new-checkout", "active": false, "reason": "incident 42", "expiresIn": "2h",
            ]
        )
        #expect(created.status == 201, "\(created.text)")
        _ = try await harness.waitForMessage(1)
        // Acknowledged and removed from the outbox: a message stopped between the two is sent again, by design.
        try await eventually("the outbox is empty") { try await first.service.stateStore.pendingMessageCount() == 0 }
        await first.stop()

        let second = try await harness.running()
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: second) == false)
        let list = try await harness.call(.GET, "/v1/overrides", on: second)
        #expect((list.json["overrides"] as? [[String: Any]])?.first?["id"] as? String == created.json["id"] as? String)

        let commit = try harness.commitAndPush("flags/production/dark-mode.json", FlagFile.nobody, "dark mode off")
        let next = try await harness.waitForMessage(2)
        #expect(next["commit"] as? String == commit)
        #expect(next["changed"] as? [String] == ["dark-mode"])
        #expect(harness.receiver.requests.count == 2)
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: second) == false)
        await second.stop()
        await harness.stop()
    }

    /// An override ends when it expires, and that publishes the flag again.
    @Test(arguments: OverrideHarness.StateKind.allCases)
    func endsOnExpiry(state: OverrideHarness.StateKind) async throws {
        let harness = try await OverrideHarness.start(state)
        let served = try await harness.running()
        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: served,
            body: [
                "environment": "production", "flag": "new-checkout", "active": false, "reason": "short test", "expiresIn": "1s",
            ]
        )
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? String)
        _ = try await harness.waitForMessage(1)
        let second = try await harness.waitForMessage(2)
        #expect(second["changed"] as? [String] == ["new-checkout"])
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: served) == true)
        let override = try await harness.call(.GET, "/v1/overrides/\(id)", on: served)
        #expect(override.json["endReason"] as? String == "expired")
        await served.stop()
        await harness.stop()
    }

    /// A commit that changes the flag ends the override; its message carries the commit's change.
    @Test func endsOnACommitThatChangesTheFlag() async throws {
        let harness = try await OverrideHarness.start()
        let served = try await harness.running()
        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: served,
            body: [
                "environment": "production", "flag": "new-checkout", "active": false, "reason": "incident", "expiresIn": "1d",
            ]
        )
        let id = try #require(created.json["id"] as? String)
        _ = try await harness.waitForMessage(1)

        let commit = try harness.commitAndPush("flags/production/new-checkout.json", FlagFile.plan("pro"), "new checkout for pro")
        let second = try await harness.waitForMessage(2)
        #expect(second["commit"] as? String == commit)
        #expect(second["previousCommit"] as? String == harness.initialCommit)
        #expect(second["changed"] as? [String] == ["new-checkout"])
        #expect(try await harness.evaluate("new-checkout", plan: "pro", on: served) == true)
        let override = try await harness.call(.GET, "/v1/overrides/\(id)", on: served)
        #expect(override.json["endReason"] as? String == "commit \(commit)")
        await served.stop()
        await harness.stop()
    }

    /// The patch applies with `git apply`; committed, it ends the override without a message, since what is served does
    /// not change: the next message is the next, unrelated change.
    @Test func thePatchAppliesAndEndsTheOverrideWithoutASecondMessage() async throws {
        let harness = try await OverrideHarness.start()
        let served = try await harness.running()
        let created = try await harness.call(
            .POST,
            "/v1/overrides",
            on: served,
            body: [
                "environment": "production", "flag": "new-checkout", "active": false, "reason": "make it permanent", "expiresIn": "1d",
            ]
        )
        let id = try #require(created.json["id"] as? String)
        _ = try await harness.waitForMessage(1)

        let patch = try await harness.call(.GET, "/v1/overrides/\(id)/patch", on: served)
        #expect(patch.status == 200)
        #expect(patch.contentType?.hasPrefix("text/x-diff") == true)
        #expect(patch.text.contains("--- a/flags/production/new-checkout.json"))
        let patchFile = harness.work.path + "/../override.patch"
        try patch.text.write(toFile: patchFile, atomically: true, encoding: .utf8)
        _ = try harness.work.git("apply", "--check", patchFile)
        _ = try harness.work.git("apply", patchFile)
        _ = try harness.work.git("add", "-A")
        let patched = try harness.work.commit("make the override permanent")
        _ = try harness.work.git("push", "origin", "main")
        try await eventually("the patch commit is served") { served.service.store.current?.commit == patched }
        let override = try await harness.call(.GET, "/v1/overrides/\(id)", on: served)
        #expect(override.json["endReason"] as? String == "commit \(patched)")
        #expect(try await harness.evaluate("new-checkout", plan: "enterprise", on: served) == false)

        let unrelated = try harness.commitAndPush("flags/production/dark-mode.json", FlagFile.nobody, "dark mode off")
        let next = try await harness.waitForMessage(2)
        #expect(next["commit"] as? String == unrelated)
        #expect(next["changed"] as? [String] == ["dark-mode"])
        #expect(harness.receiver.requests.count == 2)
        await served.stop()
        await harness.stop()
    }

    /// Bad requests get 400, 404 or 409 with a message saying what is wrong, and a wrong token 401.
    @Test func badRequestsGetClearErrors() async throws {
        let harness = try await OverrideHarness.start()
        let served = try await harness.running()
        let valid: [String: Any] = ["environment": "production", "flag": "new-checkout", "active": false, "reason": "why", "expiresIn": "1h"]
        func post(_ change: (inout [String: Any]) -> Void) async throws -> OverrideHarness.Reply {
            var body = valid
            change(&body)
            return try await harness.call(.POST, "/v1/overrides", on: served, body: body)
        }
        let cases: [(String, (inout [String: Any]) -> Void, String)] = [
            ("missing reason", { $0["reason"] = nil }, "reason is required"),
            ("empty reason", { $0["reason"] = "  " }, "reason must be 1 to 500"),
            ("long reason", { $0["reason"] = String(repeating: "x", count: 501) }, "reason must be 1 to 500"),
            ("both", { $0["variant"] = "on" }, "not both"),
            ("neither", { $0["active"] = nil }, "either active"),
            ("active string", { $0["active"] = "false" }, "active must be true or false"),
            ("no expiry", { $0["expiresIn"] = nil }, "expiresIn is required"),
            ("too long", { $0["expiresIn"] = "8d" }, "at most 7 days"),
            ("no unit", { $0["expiresIn"] = "soon" }, "expiresIn must be"),
            ("unknown environment", { $0["environment"] = "prod" }, "unknown environment \"prod\""),
            ("unknown flag", { $0["flag"] = "new-chekout" }, "unknown flag \"new-chekout\""),
            (
                "variant of a boolean flag",
                {
                    $0["active"] = nil; $0["variant"] = "on"
                }, "boolean flag"
            ),
            (
                "unknown variant",
                {
                    $0["flag"] = "layout"; $0["active"] = nil; $0["variant"] = "wide"
                }, "has no variant \"wide\""
            ),
            ("unknown field", { $0["expires"] = "1h" }, "unknown field \"expires\""),
        ]
        for (name, change, message) in cases {
            let reply = try await post(change)
            #expect(reply.status == 400, "\(name): \(reply.text)")
            #expect(reply.error?.contains(message) == true, "\(name): \(reply.text)")
        }
        let notJSON = try await harness.call(.POST, "/v1/overrides", on: served, rawBody: "{")
        #expect(notJSON.status == 400)

        let created = try await post { _ in }
        #expect(created.status == 201, "\(created.text)")
        let duplicate = try await post { $0["active"] = true }
        #expect(duplicate.status == 409)
        #expect(duplicate.error?.contains("already has an override") == true)
        let variant = try await post {
            $0["flag"] = "layout"; $0["active"] = nil; $0["variant"] = "compact"
        }
        #expect(variant.status == 201, "\(variant.text)")
        #expect(try await harness.evaluateValue("layout", plan: "enterprise", on: served) as? String == "compact")

        #expect(try await harness.call(.GET, "/v1/overrides/ovr_0000000000000000", on: served).status == 404)
        #expect(try await harness.call(.DELETE, "/v1/overrides/ovr_0000000000000000", on: served).status == 404)
        #expect(try await harness.call(.GET, "/v1/overrides/ovr_0000000000000000/patch", on: served).status == 404)
        #expect(try await harness.call(.GET, "/v1/overrides?all=maybe", on: served).status == 400)
        #expect(try await harness.call(.GET, "/v1/overrides", on: served, token: "read-token").status == 401)
        #expect(try await harness.call(.POST, "/v1/overrides", on: served, body: valid, token: nil).status == 401)
        await served.stop()
        await harness.stop()
    }
}

/// A remote repository, its working clone, a webhook receiver and a data directory that outlive one running service.
struct OverrideHarness {
    /// Where the service keeps its state.
    enum StateKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite
        case postgres

        var testDescription: String { rawValue }
    }

    let work: GitRepository
    let postgres: PostgresTestDatabase?
    let remote: String
    let dataDirectory: String
    let receiver: TestReceiver
    let initialCommit: String

    /// A running service and its base URL.
    struct Served {
        let service: HalyardService
        let task: Task<Void, any Error>
        let baseURL: String

        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    /// A reply of the API.
    struct Reply {
        var status: Int
        var text: String
        var contentType: String?
        var etag: String?

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var error: String? { json["error"] as? String }
    }

    static func start(_ state: StateKind = .sqlite) async throws -> OverrideHarness {
        // First, so that a test cluster is started before this test runs any `git`.
        let postgres = state == .postgres ? try PostgresTestServer.createDatabase() : nil
        let work = try GitRepository(prefix: "halyard-override-work")
        try work.write("flags/production/new-checkout.json", FlagFile.plan("enterprise"))
        try work.write("flags/production/dark-mode.json", FlagFile.everybody)
        try work.write(
            "flags/production/layout.json",
            """
            {
              "active": true,
              "variants": {"classic": "classic", "compact": "compact"},
              "defaultVariant": "classic",
              "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "free"}], "serve": "compact"}]
            }

            """
        )
        let initial = try work.commit("initial flags")
        let remote = try TemporaryDirectory.make(prefix: "halyard-override-remote") + "/flags.git"
        _ = try Git.run(["clone", "--bare", "--quiet", work.path, remote], in: work.path)
        _ = try work.git("remote", "add", "origin", remote)
        return OverrideHarness(
            work: work,
            postgres: postgres,
            remote: remote,
            dataDirectory: try TemporaryDirectory.make(prefix: "halyard-override-data"),
            receiver: try await TestReceiver.start(),
            initialCommit: initial
        )
    }

    /// Starts a service on the data directory, subscribed for production, and waits until it serves and is bound.
    func running() async throws -> Served {
        var logger = Logger(label: "halyard-override-tests")
        logger.logLevel = .critical
        let repository = WatcherConfiguration(
            source: .remote(url: remote),
            branch: "main",
            pollInterval: .milliseconds(100),
            initialBackoff: .milliseconds(50),
            maxBackoff: .milliseconds(200)
        )
        var configuration = ServiceConfiguration(
            repository: repository,
            http: ServiceConfiguration.HTTP(
                host: "127.0.0.1",
                port: 0,
                auth: ServiceConfiguration.Auth(adminToken: "admin-secret", readTokens: ["read-token"])
            ),
            notify: ServiceConfiguration.Notify(allowPrivateNetworks: true),
            dataDirectory: dataDirectory,
            logLevel: .critical
        )
        configuration.state.url = postgres.map { $0.url + "?sslmode=disable" }
        configuration.repository.publisherLockRetry = .milliseconds(100)
        let service = try HalyardService(configuration: configuration, logger: logger)
        let task = Task { try await service.run() }
        try await eventually("the service serves and is bound") {
            service.store.current != nil && service.publicBaseURL != nil
        }
        if postgres != nil {
            // The first commit is published (without messages) before anything else is: wait for it.
            // After a restart, the lock of the stopped service goes when its connection has closed.
            try await eventually("this service publishes the served commit") {
                let health = service.watcher.sharedStateHealth
                return health?.publisher == true && health?.publishedCommit == service.store.current?.commit
            }
        }
        // After the start, which migrates a PostgreSQL schema.
        if try await service.stateStore.subscriptions().isEmpty {
            _ = try await service.stateStore.createSubscription(url: receiver.url(), environments: ["production"], policy: .any)
        }
        return Served(service: service, task: task, baseURL: service.publicBaseURL!)
    }

    /// Moves the remote away: every fetch fails from now on.
    func removeRemote() throws {
        try FileManager.default.moveItem(atPath: remote, toPath: remote + ".gone")
    }

    /// Writes a file, commits and pushes it; returns the commit.
    func commitAndPush(_ path: String, _ contents: String, _ message: String) throws -> String {
        try work.write(path, contents)
        let commit = try work.commit(message)
        _ = try work.git("push", "--quiet", "origin", "main")
        return commit
    }

    /// The `data` of the `count`th webhook, once it arrived.
    /// Waits for the `count`th webhook; with `served`, also until its delivery is recorded, so that the next change is
    /// not coalesced with a message that has arrived but is still pending.
    func waitForMessage(_ count: Int, recordedOn served: Served? = nil) async throws -> [String: Any] {
        try await eventually("webhook \(count) arrives") {
            guard receiver.requests.count >= count else { return false }
            guard let served else { return true }
            return try await served.service.stateStore.pendingMessageCount() == 0
        }
        return try #require(receiver.requests[count - 1].json?["data"] as? [String: Any])
    }

    func call(
        _ method: HTTPMethod,
        _ path: String,
        on served: Served,
        body: [String: Any]? = nil,
        rawBody: String? = nil,
        token: String? = "admin-secret"
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: served.baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let text = try rawBody ?? body.map({ String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }) {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: text))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return Reply(
            status: Int(response.status.code),
            text: text,
            contentType: response.headers.first(name: "Content-Type"),
            etag: response.headers.first(name: "ETag")
        )
    }

    func evaluateValue(_ flag: String, plan: String, on served: Served) async throws -> Any? {
        let reply = try await call(
            .POST,
            "/v1/environments/production/evaluate",
            on: served,
            body: ["context": ["plan": plan], "flags": [flag]],
            token: "read-token"
        )
        return (reply.json["flags"] as? [String: Any])?[flag]
    }

    func evaluate(_ flag: String, plan: String, on served: Served) async throws -> Bool? {
        try await evaluateValue(flag, plan: plan, on: served) as? Bool
    }

    /// The `active` of a flag in a flags listing.
    func listedActive(_ flag: String, _ listing: Reply) -> Bool? {
        ((listing.json["flags"] as? [String: Any])?[flag] as? [String: Any])?["active"] as? Bool
    }

    func stop() async {
        await receiver.stop()
        if let postgres { try? PostgresTestServer.dropDatabase(postgres) }
    }
}

/// The console shows an override in effect on the overview and on the flag's page.
@Suite struct OverrideConsoleTests {
    @Test func theOverviewAndTheFlagPageShowAnOverrideInEffect() async throws {
        let fixture = try ServerFixture()
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let override = try await fixture.watcher.createOverride(
                environment: "production",
                flag: "new-checkout",
                setting: .active(false),
                reason: "INC-9 <checkout>",
                expiresIn: OverrideDuration("2h")!
            )
            try await client.execute(uri: "/ui", method: .get) { response in
                #expect(response.text.contains(#"data-test="override""#))
                #expect(response.text.contains("production/new-checkout</a> active=false until"))
                #expect(response.text.contains("INC-9 &lt;checkout&gt;"))
            }
            try await client.execute(uri: "/ui/environments/production/flags/new-checkout", method: .get) { response in
                #expect(response.text.contains(#"data-test="override""#))
                #expect(response.text.contains(override.id))
            }
            try await client.execute(uri: "/ui/environments/production/flags/dark-mode", method: .get) { response in
                #expect(!response.text.contains(#"data-test="override""#))
            }
        }
    }
}
