import Foundation
import HalyardTesting
import Testing

/// Several `halyard serve` replicas on one PostgreSQL database (DESIGN §10), as real processes on loopback: one
/// publisher at a time, shared triggers and subscriptions, and a database outage.
@Suite(.serialized, .tags(.postgres), .timeLimit(.minutes(2)))
struct ReplicaTests {
    static let checkoutOn = WebhookDurabilityTests.checkoutOn
    static let checkoutOff = WebhookDurabilityTests.checkoutOff

    @Test func testASubscriptionCreatedOnOneReplicaReceivesTheChangeTriggeredThroughAnother() async throws {
        try await PostgresTestServer.withDatabase { database in
            let receiver = try await TestReceiver.start()
            defer { Task { await receiver.stop() } }
            // Remote mode, fetched hourly: only /v1/refresh (on B) and its shared trigger make the replicas fetch.
            let cluster = try ReplicaCluster(stateURL: database.url + "?sslmode=disable", count: 2, remote: true)
            defer { cluster.remove() }
            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
            let first = try cluster.workspace.commit("Add new-checkout")
            try await cluster.startAll()
            try await cluster.waitUntilAllServe(first)
            let replicaA = try cluster.replica(0)
            let replicaB = try cluster.replica(1)

            let created = try await ReplicaHTTP.post(
                replicaA.baseURL + "/v1/subscriptions",
                json: ["url": receiver.url("/a"), "environments": ["production"]]
            )
            #expect(created.status == 201)
            let secret = try #require(created.body?["secret"] as? String)

            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
            let change = try cluster.workspace.commit("Switch new-checkout off")
            #expect(try await ReplicaHTTP.post(replicaB.baseURL + "/v1/refresh").status == 202)

            // A fetches too, told by B through PostgreSQL, long before its hourly poll.
            try await eventually("replica A serves \(change)\n\(cluster.logs)", timeout: .seconds(10), retrying: ServeError.meansNotYet) {
                try await replicaA.status()["commit"] as? String == change
            }
            try await eventually("A's subscription receives \(change)\n\(cluster.logs)", timeout: .seconds(10)) {
                receiver.requests(path: "/a").contains { ReceivedMessage($0, secret: secret)?.commit == change }
            }
            let message = try #require(receiver.requests(path: "/a").compactMap { ReceivedMessage($0, secret: secret) }.first)
            #expect(message.verified)
            #expect(message.previousCommit == first)
        }
    }

    @Test func testThreeReplicasSendExactlyOneVerifiedCallPerSubscriberForOneCommit() async throws {
        try await PostgresTestServer.withDatabase { database in
            let receiver = try await TestReceiver.start()
            defer { Task { await receiver.stop() } }
            let paths = ["/s0", "/s1", "/s2", "/s3"]
            let cluster = try ReplicaCluster(
                stateURL: database.url + "?sslmode=disable",
                count: 3,
                subscriptions: paths.map { .init(url: receiver.url($0), environments: ["production"]) }
            )
            defer { cluster.remove() }
            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
            let first = try cluster.workspace.commit("Add new-checkout")
            try await cluster.startAll()
            try await cluster.waitUntilAllServe(first)
            try await cluster.waitUntilPublished(first)

            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
            let change = try cluster.workspace.commit("Switch new-checkout off")
            try await cluster.waitUntilAllServe(change)
            try await eventually("every subscriber receives \(change)\n\(cluster.logs)", timeout: .seconds(15)) {
                paths.allSatisfy { path in receiver.requests(path: path).contains { ReceivedMessage($0)?.commit == change } }
            }
            // Each of the three replicas polls the branch every second: give them time to send a second copy.
            try await WebhookDurabilityTests.sleepToProveNoCallArrives(for: .seconds(3))
            for path in paths {
                let messages = receiver.requests(path: path).compactMap { ReceivedMessage($0) }
                #expect(messages.count == 1, "\(path): \(messages.map(\.webhookID))\n\(cluster.logs)")
                #expect(messages.allSatisfy { $0.verified && $0.commit == change && $0.previousCommit == first })
            }
        }
    }

    @Test func testWhenThePublisherIsKilledAnotherReplicaPublishesTheNextChangeWithinFiveSeconds() async throws {
        try await PostgresTestServer.withDatabase { database in
            let receiver = try await TestReceiver.start()
            defer { Task { await receiver.stop() } }
            let cluster = try ReplicaCluster(
                stateURL: database.url + "?sslmode=disable",
                count: 3,
                subscriptions: [.init(url: receiver.url("/s"), environments: ["production"])]
            )
            defer { cluster.remove() }
            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
            let first = try cluster.workspace.commit("Add new-checkout")
            try await cluster.startAll()
            try await cluster.waitUntilAllServe(first)
            try await cluster.waitUntilPublished(first)
            let publisher = try await cluster.waitForPublisher()

            cluster.kill(publisher)
            try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
            let change = try cluster.workspace.commit("Switch new-checkout off")
            let committed = ContinuousClock.now
            try await eventually("another replica publishes \(change) within 5 s\n\(cluster.logs)", timeout: .seconds(5)) {
                receiver.requests(path: "/s").contains { ReceivedMessage($0)?.commit == change }
            }
            let elapsed = ContinuousClock.now - committed
            let successor = try #require(await cluster.publisher())
            #expect(successor != publisher)
            let messages = receiver.requests(path: "/s").compactMap { ReceivedMessage($0) }
            #expect(messages.map(\.commit) == [change], "\(elapsed)")
            #expect(messages.first?.previousCommit == first)
        }
    }

    @Test func testADatabaseOutageKeepsEveryReplicaServingAndLosesNoChange() async throws {
        let postgres = try PostgresTestServer.startPrivateCluster()
        defer { postgres.stop() }
        let receiver = try await TestReceiver.start()
        defer { Task { await receiver.stop() } }
        let subscriptions = ["/p": ["production"], "/ps": ["production", "staging"]]
        let cluster = try ReplicaCluster(
            stateURL: postgres.url,
            count: 2,
            subscriptions: subscriptions.map { .init(url: receiver.url($0.key), environments: $0.value) }
        )
        defer { cluster.remove() }
        var commits: [String] = []
        try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
        try cluster.workspace.write("flags/staging/new-checkout.json", Self.checkoutOn)
        commits.append(try cluster.workspace.commit("Add new-checkout"))
        try await cluster.startAll()
        try await cluster.waitUntilAllServe(commits[0])
        try await cluster.waitUntilPublished(commits[0])

        try postgres.pause()
        let pausedAt = ContinuousClock.now
        try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
        commits.append(try cluster.workspace.commit("production off"))
        try await cluster.waitUntilAllServe(commits[1])
        try cluster.workspace.write("flags/staging/new-checkout.json", Self.checkoutOff)
        commits.append(try cluster.workspace.commit("staging off"))
        try await cluster.waitUntilAllServe(commits[2])
        for serve in cluster.running {
            try await eventually("the status shows PostgreSQL unreachable\n\(cluster.logs)", timeout: .seconds(10)) {
                let state = try await serve.status()["state"] as? [String: Any]
                return state?["reachable"] as? Bool == false && state?["lastError"] is String
            }
            #expect(try await ServeHTTP.get(serve.baseURL + "/readyz").status == 200)
            let metrics = String(decoding: try await ServeHTTP.get(serve.baseURL + "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("halyard_state_store_up 0"), "\(metrics)")
        }
        // The outage lasts about ten seconds in all.
        try await Task.sleep(until: pausedAt + .seconds(10))
        try postgres.resume()

        try await cluster.waitUntilPublished(commits[2], timeout: .seconds(20))
        try await eventually("every subscriber reaches the last change\n\(cluster.logs)", timeout: .seconds(20)) {
            let messages = receiver.requests.compactMap { ReceivedMessage($0) }
            return subscriptions.allSatisfy { path, environments in
                environments.allSatisfy { environment in
                    let last = environment == "production" ? commits[1] : commits[2]
                    return messages.contains { $0.path == path && $0.environment == environment && commits.firstIndex(of: $0.commit)! >= commits.firstIndex(of: last)! }
                }
            }
        }
        // Each replica sees the database back at its next retry (backoff of at most 5 s).
        for serve in cluster.running {
            try await eventually("every replica reaches PostgreSQL again\n\(cluster.logs)", timeout: .seconds(10)) {
                (try await serve.status()["state"] as? [String: Any])?["reachable"] as? Bool == true
            }
        }
        let problems = ChainCheck.problems(
            messages: receiver.requests.compactMap { ReceivedMessage($0) },
            commits: commits,
            changes: ["production": [1], "staging": [2]],
            subscriptions: subscriptions
        )
        #expect(problems.isEmpty, "\(problems)\n\(cluster.logs)")
    }

    @Test func testAReplicaStartedWhilePostgreSQLIsDownServesAtOnceAndDeliversOnceItIsUp() async throws {
        let postgres = try PostgresTestServer.startPrivateCluster()
        defer { postgres.stop() }
        try postgres.pause()
        let receiver = try await TestReceiver.start()
        defer { Task { await receiver.stop() } }
        let cluster = try ReplicaCluster(
            stateURL: postgres.url,
            count: 1,
            subscriptions: [.init(url: receiver.url("/p"), environments: ["production"])]
        )
        defer { cluster.remove() }
        try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOn)
        let first = try cluster.workspace.commit("Add new-checkout")

        // PostgreSQL is down: the replica starts anyway, serves from git and is ready.
        let serve = try await cluster.start(0)
        try await cluster.waitUntilAllServe(first)
        #expect(try await ServeHTTP.get(serve.baseURL + "/readyz").status == 200)
        let state = try #require(try await serve.status()["state"] as? [String: Any])
        #expect(state["reachable"] as? Bool == false)
        #expect((state["lastError"] as? String)?.contains("refused") == true, "\(state)")
        // An expected degraded start, told once as a warning: not an error to page anybody for.
        #expect(!serve.log.contains(" error halyard:"), "\(serve.log)")
        // Dynamic subscriptions need the shared store: a clear 503 until it has been reached.
        let refused = try await ReplicaHTTP.post(
            serve.baseURL + "/v1/subscriptions",
            json: ["url": receiver.url("/dynamic"), "environments": ["production"]]
        )
        #expect(refused.status == 503)
        #expect((refused.body?["error"] as? String)?.contains("unavailable") == true, "\(String(describing: refused.body))")

        // PostgreSQL comes up: the schema is migrated, the replica publishes, and a commit reaches the subscriber.
        try postgres.resume()
        try await cluster.waitUntilPublished(first, timeout: .seconds(20))
        try cluster.workspace.write("flags/production/new-checkout.json", Self.checkoutOff)
        let change = try cluster.workspace.commit("production off")
        try await eventually("the subscriber receives \(change)\n\(cluster.logs)", timeout: .seconds(20)) {
            receiver.requests(path: "/p").contains { ReceivedMessage($0)?.commit == change }
        }
        let message = try #require(receiver.requests(path: "/p").compactMap { ReceivedMessage($0) }.first { $0.commit == change })
        #expect(message.verified && message.previousCommit == first)
        #expect((try await serve.status()["state"] as? [String: Any])?["reachable"] as? Bool == true)
        let created = try await ReplicaHTTP.post(
            serve.baseURL + "/v1/subscriptions",
            json: ["url": receiver.url("/dynamic"), "environments": ["production"]]
        )
        #expect(created.status == 201)
    }
}
