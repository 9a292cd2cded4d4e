import AsyncHTTPClient
import Foundation
import HalyardTesting
import NIOCore
import Testing

/// The `limits.*` keys of `halyard serve` (DESIGN §13): read from the config file and the environment, checked at
/// start-up, and applied by the running process.
@Suite(.serialized)
struct ServeLimitsTests {
    @Test func testBadLimitsStopTheStartUpWithOneClearLine() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        let cases: [(config: String, error: String)] = [
            (
                #"{"limits": {"contextBody": "64 kilobytes"}}"#,
                "configuration key limits.contextBody: '64 kilobytes' is not a size (use bytes, or 64KiB, 1MiB, 1GiB)"
            ),
            (#"{"limits": {"requestBody": 0}}"#, "configuration key limits.requestBody: a size must be between 1 byte and 1GiB"),
            (#"{"limits": {"requestBody": "2GiB"}}"#, "configuration key limits.requestBody: a size must be between 1 byte and 1GiB"),
            (#"{"limits": {"maxConnections": 1.5}}"#, "configuration key limits.maxConnections: expected a whole number"),
            (#"{"limits": {"maxStreams": "many"}}"#, "configuration key limits.maxStreams: 'many' is not a whole number"),
            (#"{"limits": {"contextAttributes": -1}}"#, "configuration key limits.contextAttributes: must be at least 1, not -1"),
            (
                #"{"limits": {"idleTimeout": "forever"}}"#,
                "configuration key limits.idleTimeout: 'forever' is not a duration (use seconds, or 500ms, 30s, 5m, 1h)"
            ),
        ]
        for (config, error) in cases {
            try workspace.write("halyard.json", config)
            let result = try HalyardBinary.run(["serve", "--config", "halyard.json"], in: workspace.path)
            #expect(result.status == 2, "\(config)")
            #expect(result.stderr == "error: \(error)\n", "\(config)")
        }
        let fromEnvironment = try HalyardBinary.run(["serve"], in: workspace.path, environment: ["HALYARD_LIMITS_MAX_STREAMS": "0"])
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.stderr == "error: configuration key limits.maxStreams: must be at least 1, not 0\n")
    }

    @Test func testTheProcessAppliesItsLimits() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/reporting.json", Flags.disney)
        let commit = try fixture.workspace.commit("flags")
        let config: [String: Any] = [
            "dataDir": fixture.dataDirectory,
            "limits": ["contextBody": "1KiB", "maxStreams": 1, "idleTimeout": "2s", "maxConnections": 100],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: fixture.configPath))
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)

        var evaluate = HTTPClientRequest(url: serve.baseURL + "/v1/environments/production/evaluate")
        evaluate.method = .POST
        evaluate.body = .bytes(ByteBuffer(string: #"{"context": {"blob": ""# + String(repeating: "x", count: 1_100) + #""}}"#))
        let tooLarge = try await HTTPClient.shared.execute(evaluate, timeout: .seconds(5))
        #expect(tooLarge.status.code == 413)

        // One stream is allowed; the second gets 503 with Retry-After.
        let stream = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: serve.baseURL + "/v1/environments/production/stream"),
            timeout: .seconds(30)
        )
        #expect(stream.status.code == 200)
        let second = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: serve.baseURL + "/v1/environments/production/stream"),
            timeout: .seconds(5)
        )
        #expect(second.status.code == 503)
        #expect(second.headers.first(name: "retry-after") == "5")
        let body = try await second.body.collect(upTo: 1 << 16)
        #expect(String(buffer: body).contains("limits.maxStreams"))
    }
}
