import Foundation
import HalyardTesting
import Testing

/// `halyard stale` on a real repository whose commits have chosen dates, and `validate`'s expiry warnings.
@Suite(.serialized)
struct StaleTests {
    private static let filter = #"{"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}]]}"#
    private static let day = 86_400

    /// Commits everything with author and committer dates `daysAgo` days before now.
    @discardableResult
    private static func commit(_ workspace: GitRepository, _ message: String, daysAgo: Int) throws -> String {
        let date = "@\(Int(Date().timeIntervalSince1970) - daysAgo * day) +0000"
        try workspace.git("add", "-A")
        try workspace.git(["commit", "-q", "--allow-empty", "-m", message], environment: ["GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date])
        return try workspace.git("rev-parse", "HEAD")
    }

    /// The history: flags added 300 days ago, a metadata-only edit 200 days ago, a staging change 10 days ago and
    /// flags with `metadata.expires` today. Returns the first commit.
    private static func makeRepository() throws -> (GitRepository, String) {
        let workspace = try GitRepository(prefix: "halyard-stale")
        try workspace.write("flags/production/old-banner.json", filter)
        try workspace.write("flags/production/rollout.json", filter)
        try workspace.write("flags/staging/rollout.json", filter)
        try workspace.write("flags/production/done.json", #"{"active": true, "rules": [[{"type": "%", "percentage": 100, "attribute": "userId"}]]}"#)
        try workspace.write("flags/production/layout.json", #"{"active": true, "variants": {"a": "alpha", "b": "beta"}, "defaultVariant": "b", "rules": []}"#)
        let first = try commit(workspace, "add flags", daysAgo: 300)
        try workspace.write("flags/production/old-banner.json", filter.replacingOccurrences(of: "{\"active\"", with: "{\"name\": \"Old banner\", \"active\""))
        try commit(workspace, "rename the banner", daysAgo: 200)
        try workspace.write("flags/staging/rollout.json", filter.replacingOccurrences(of: "pro", with: "team"))
        try commit(workspace, "widen the staging rollout", daysAgo: 10)
        try workspace.write("flags/production/expiring.json", filter.replacingOccurrences(of: "]]}", with: #"]], "metadata": {"expires": "2020-01-31"}}"#))
        try workspace.write("flags/production/future.json", filter.replacingOccurrences(of: "]]}", with: #"]], "metadata": {"expires": "2999-01-01T00:00:00Z"}}"#))
        try workspace.write("flags/production/bad-date.json", filter.replacingOccurrences(of: "]]}", with: #"]], "metadata": {"expires": "next tuesday"}}"#))
        try commit(workspace, "add flags with expiry dates", daysAgo: 0)
        return (workspace, first)
    }

    private static func staleJSON(_ arguments: [String]) throws -> (status: Int32, flags: [String: [[String: Any]]]) {
        let result = try HalyardBinary.run(["stale", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stale = try #require(object["stale"] as? [[String: Any]])
        var flags: [String: [[String: Any]]] = [:]
        for finding in stale {
            flags["\(finding["environment"]!)/\(finding["flag"]!)"] = finding["reasons"] as? [[String: Any]]
        }
        return (result.status, flags)
    }

    private static func kinds(_ reasons: [[String: Any]]?) -> [String] {
        (reasons ?? []).compactMap { $0["kind"] as? String }
    }

    @Test func testTheThreeKindsInJSON() throws {
        let (workspace, first) = try Self.makeRepository()
        defer { workspace.destroy() }
        let (_, flags) = try Self.staleJSON(["--repo", workspace.path])
        #expect(Set(flags.keys) == ["production/old-banner", "production/done", "production/layout", "production/expiring", "production/bad-date"])
        // The metadata-only edit 200 days ago is no change: the last one is the first commit.
        let banner = try #require(flags["production/old-banner"]?.first)
        #expect(banner["kind"] as? String == "unchanged")
        #expect(banner["commit"] as? String == first)
        #expect(Self.kinds(flags["production/done"]) == ["unchanged", "one-value"])
        #expect(flags["production/done"]?.last?["why"] as? String == "everybody-selected")
        #expect(flags["production/layout"]?.last?["why"] as? String == "no-groups")
        #expect(flags["production/layout"]?.last?["variant"] as? String == "b")
        #expect(Self.kinds(flags["production/expiring"]) == ["expired"])
        #expect(flags["production/expiring"]?.first?["expires"] as? String == "2020-01-31")
        #expect(Self.kinds(flags["production/bad-date"]) == ["malformed-expiry"])

        // Nothing is old enough for 400 days; the one-value and expiry findings stay.
        let (_, longer) = try Self.staleJSON(["--repo", workspace.path, "--older-than", "58w"])
        #expect(Set(longer.keys) == ["production/done", "production/layout", "production/expiring", "production/bad-date"])
        // In hours: everything but the commit of today is older than 48 hours.
        let (_, hours) = try Self.staleJSON(["--repo", workspace.path, "--older-than", "48h"])
        #expect(Self.kinds(hours["staging/rollout"]) == ["unchanged"])
        // At the first commit, 300 days ago, as of now.
        let (_, atFirst) = try Self.staleJSON(["--repo", workspace.path, "--rev", first])
        #expect(Self.kinds(atFirst["production/rollout"]) == ["unchanged"])
    }

    @Test func testEnvironmentSelectsItsOwnHistory() throws {
        let (workspace, _) = try Self.makeRepository()
        defer { workspace.destroy() }
        // Staging changed `rollout` 10 days ago, so it is not stale in any environment …
        let (_, all) = try Self.staleJSON(["--repo", workspace.path])
        #expect(all["production/rollout"] == nil && all["staging/rollout"] == nil)
        // … but production alone has not changed it for 300 days.
        let (_, production) = try Self.staleJSON(["--repo", workspace.path, "--env", "production"])
        #expect(Self.kinds(production["production/rollout"]) == ["unchanged"])
        #expect(!production.keys.contains { $0.hasPrefix("staging/") })
        let (_, staging) = try Self.staleJSON(["--repo", workspace.path, "--env", "staging"])
        #expect(staging.isEmpty)

        let unknown = try HalyardBinary.run(["stale", "--repo", workspace.path, "--env", "qa"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no environment 'qa' (flags/qa/)"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("environments: production, staging"))
    }

    @Test func testTextAndMarkdown() throws {
        let (workspace, first) = try Self.makeRepository()
        defer { workspace.destroy() }
        let text = try HalyardBinary.run(["stale", "--repo", workspace.path])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("production/old-banner") && $0.contains("unchanged since") && $0.contains("(\(first.prefix(7)))") })
        #expect(lines.contains { $0.hasPrefix("production/done") && $0.contains("serves true to everybody (everybody-selected)") })
        #expect(lines.contains { $0.hasPrefix("production/layout") && $0.contains("serves variant b to everybody (no-groups)") })
        #expect(lines.contains { $0.hasPrefix("production/expiring") && $0.hasSuffix("expired on 2020-01-31") })
        #expect(lines.contains { $0.hasPrefix("production/bad-date") && $0.contains(#"metadata.expires "next tuesday" is not an ISO date"#) })
        #expect(lines.last?.hasPrefix("5 stale of 8 flags in 2 environments") == true, "\(text.stdout)")

        let markdown = try HalyardBinary.run(["stale", "--repo", workspace.path, "--format", "markdown"])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("### Halyard: stale flags at `\(try workspace.git("rev-parse", "--short=7", "HEAD"))`"))
        #expect(markdown.stdout.contains("| environment | flag | why |"))
        #expect(markdown.stdout.contains("| production | `expiring` | expired on 2020-01-31 |"))

        let none = try HalyardBinary.run(["stale", "--repo", workspace.path, "--env", "staging"])
        #expect(none.status == 0)
        #expect(none.stdout.hasPrefix("no stale flags of 1 flag in 1 environment"), "\(none.stdout)")
    }

    @Test func testBadOlderThanIsAUsageError() throws {
        let (workspace, _) = try Self.makeRepository()
        defer { workspace.destroy() }
        for bad in ["6m", "90", "d", "0d", "1.5d", "12 w"] {
            let result = try HalyardBinary.run(["stale", "--repo", workspace.path, "--older-than", bad])
            #expect(result.status == 64, "\(bad): \(result.stdout)")
            #expect(result.stderr.contains("d (days), w (weeks) or h (hours)"), "\(bad): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let format = try HalyardBinary.run(["stale", "--repo", workspace.path, "--format", "yaml"])
        #expect(format.status == 64)
    }

    @Test func testValidateWarnsAboutExpiredFlags() throws {
        let (workspace, _) = try Self.makeRepository()
        defer { workspace.destroy() }
        let result = try HalyardBinary.run(["validate", "--repo", workspace.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("warning: flags/production/expiring.json: /metadata/expires"), "\(result.stdout)")
        #expect(result.stdout.contains("expired on 2020-01-31"))
        #expect(result.stdout.contains("flags/production/bad-date.json: /metadata/expires"))
        #expect(!result.stdout.contains("future.json"))
        #expect(result.stdout.contains("2 warnings"))
        let json = try HalyardBinary.run(["validate", "--rev", "HEAD", "--repo", workspace.path, "--format", "json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["warnings"] as? [[String: Any]])?.count == 2)
    }

    @Test func testServeExportsTheStaleGauge() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        try fixture.workspace.write("flags/production/live.json", Self.filter)
        try fixture.workspace.write("flags/production/off.json", Flags.off)
        try fixture.workspace.write("flags/production/expired.json", Self.filter.replacingOccurrences(of: "]]}", with: #"]], "metadata": {"expires": "2020-01-31"}}"#))
        try fixture.workspace.write("flags/staging/live.json", Self.filter)
        let commit = try fixture.workspace.commit("flags")
        try #"{"dataDir": "\#(fixture.dataDirectory)"}"#.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)
        let (status, body) = try await ServeHTTP.get(serve.baseURL + "/metrics")
        #expect(status == 200)
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#"halyard_flags_stale{environment="production"} 2"#), "\(text)")
        #expect(text.contains(#"halyard_flags_stale{environment="staging"} 0"#))
    }

    /// A flag whose `metadata.expires` passes while no commit arrives is counted once its date is past.
    @Test func testTheStaleGaugeFollowsTheClock() async throws {
        let fixture = try ServeFixture()
        defer { fixture.remove() }
        let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 10).rounded(.down))
        let expires = expiry.formatted(Date.ISO8601FormatStyle())
        try fixture.workspace.write("flags/production/live.json", Self.filter)
        try fixture.workspace.write(
            "flags/production/soon.json", Self.filter.replacingOccurrences(of: "]]}", with: #"]], "metadata": {"expires": "\#(expires)"}}"#))
        let commit = try fixture.workspace.commit("a flag that expires in ten seconds")
        try #"{"dataDir": "\#(fixture.dataDirectory)"}"#.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let serve = try await fixture.serve(run: 1)
        defer { serve.kill() }
        try await serve.waitUntilApplied(commit)
        /// The production gauge's value; nil when /metrics has none.
        func staleGauge() async throws -> Double? {
            let text = String(decoding: try await ServeHTTP.get(serve.baseURL + "/metrics").body, as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix(#"halyard_flags_stale{environment="production"} "#) }
            return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
        }
        let before = try await staleGauge()
        try #require(Date() < expiry, "the service took too long to start for this test to say anything")
        #expect(before == 0)
        try await eventually("halyard_flags_stale counts the flag after its expiry, with no commit", timeout: .seconds(40), interval: .milliseconds(200)) {
            try await staleGauge() == 1
        }
        #expect(Date() >= expiry)
    }
}
