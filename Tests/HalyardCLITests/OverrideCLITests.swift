import Foundation
import HalyardTesting
import Testing

/// `halyard override` against a real `halyard serve`: create, list, patch, end, and the refusals; the server's metrics
/// and log show the override.
@Suite(.timeLimit(.minutes(2)))
struct OverrideCLITests {
    @Test func createListPatchAndEndThroughTheCLI() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/new-checkout.json", "{\n  \"active\": true,\n  \"rules\": [[]]\n}\n")
        let commit = try fixture.workspace.commit("initial flags")
        let receiver = try await TestReceiver.start()
        try fixture.writeConfig(subscribing: receiver.url(), to: ["production"])
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)
        let server = ["--server", serve.baseURL]
        let token = ["HALYARD_TOKEN": "test-admin-token"]

        let created = try HalyardBinary.run(
            [
                "override", "create", "--env", "production", "--flag", "new-checkout", "--active", "false", "--reason", "INC-7 checkout down",
                "--expires-in", "30m",
            ] + server,
            environment: token
        )
        #expect(created.status == 0, "\(created.stderr)")
        let id = String(created.stdout.prefix { !$0.isWhitespace })
        #expect(id.hasPrefix("ovr_"))
        #expect(created.stdout.contains("production/new-checkout  active=false  until "))
        try await eventually("the override is published") { !receiver.requests.isEmpty }

        let listed = try HalyardBinary.run(["override", "list"] + server, environment: token)
        #expect(listed.status == 0)
        #expect(listed.stdout.hasPrefix(id))
        let metrics = try await ServeHTTP.get(serve.baseURL + "/metrics")
        #expect(String(decoding: metrics.body, as: UTF8.self).contains(#"halyard_overrides_active{environment="production"} 1"#))
        #expect(serve.log.contains("override created") && serve.log.contains("INC-7 checkout down"))

        let patch = try HalyardBinary.run(["override", "patch", id] + server, environment: token)
        #expect(patch.status == 0)
        #expect(patch.stdout.contains("-  \"active\": true,\n+  \"active\": false,\n"))

        let ended = try HalyardBinary.run(["override", "end", id, "--token", "test-admin-token"] + server)
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(ended.stdout.contains("ended (deleted)"))
        let again = try HalyardBinary.run(["override", "end", id] + server, environment: token)
        #expect(again.status == 1)
        #expect(again.stderr.contains("409") && again.stderr.contains("already ended"))
        let audit = try HalyardBinary.run(["override", "list", "--all"] + server, environment: token)
        #expect(audit.stdout.contains("\(id)  production/new-checkout  active=false  ended (deleted)"))

        let noToken = try HalyardBinary.run(["override", "list"] + server)
        #expect(noToken.status == 1)
        #expect(noToken.stderr.contains("401"))
        let both = try HalyardBinary.run(
            [
                "override", "create", "--env", "production", "--flag", "new-checkout", "--active", "true", "--variant", "x", "--reason", "r",
                "--expires-in", "1h",
            ] + server,
            environment: token
        )
        #expect(both.status == 64)
        // A server that refuses the connection is reported at once, not after the request's 30 s of attempts to connect.
        let start = ContinuousClock.now
        let unreachable = try HalyardBinary.run(["override", "list", "--server", "http://127.0.0.1:9"], environment: token)
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("cannot reach http://127.0.0.1:9"))
        #expect(ContinuousClock.now - start < .seconds(15), "a refused connection took the whole request timeout")
        await receiver.stop()
    }
}
