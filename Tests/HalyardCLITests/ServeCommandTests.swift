import Foundation
import HalyardTesting
import Testing

/// `halyard serve` as a process: configuration errors, start-up and graceful shutdown.
@Suite(.serialized)
struct ServeCommandTests {
    @Test func testAnUnknownConfigKeyStopsTheStartUpWithOneClearLine() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("halyard.json", #"{"repo": {"polInterval": "30s"}}"#)
        let result = try HalyardBinary.run(["serve", "--config", workspace.path + "/halyard.json"], in: workspace.path)
        #expect(result.status == 2)
        #expect(
            result.stderr == "error: config file \(workspace.path)/halyard.json: unknown key repo.polInterval (did you mean repo.pollInterval?)\n"
        )
    }

    @Test func testBadValuesStopTheStartUp() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        let badDuration = try HalyardBinary.run(["serve", "--poll-interval", "soon"], in: workspace.path)
        #expect(badDuration.status == 2)
        #expect(badDuration.stderr.contains("repo.pollInterval: 'soon' is not a duration"))

        let badPort = try HalyardBinary.run(["serve"], in: workspace.path, environment: ["HALYARD_HTTP_PORT": "eighty"])
        #expect(badPort.status == 2)
        #expect(badPort.stderr.contains("http.port: 'eighty' is not a port number"))

        let unknownVariable = try HalyardBinary.run(["serve"], in: workspace.path, environment: ["HALYARD_REPO_BRANCHH": "main"])
        #expect(unknownVariable.status == 2)
        #expect(unknownVariable.stderr.contains("unknown environment variable HALYARD_REPO_BRANCHH (did you mean HALYARD_REPO_BRANCH?)"))

        try workspace.write("bad.json", "{ not json")
        let badFile = try HalyardBinary.run(["serve", "--config", "bad.json"], in: workspace.path)
        #expect(badFile.status == 2)
        #expect(badFile.stderr.contains("invalid JSON"))
        #expect(badFile.stderr.split(separator: "\n").count == 1)
    }

    @Test func testServesAndShutsDownGracefullyOnSIGTERM() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let commit = try fixture.workspace.commit("flags")
        try #"{"dataDir": "\#(fixture.dataDirectory)"}"#.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)

        let stopping = ContinuousClock.now
        let status = try await serve.terminate(timeout: .seconds(5))
        #expect(status == 0, "\(serve.log)")
        #expect(ContinuousClock.now - stopping < .seconds(5))
        #expect(serve.log.contains("halyard stopped"))
    }
}
