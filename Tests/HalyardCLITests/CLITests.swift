import Foundation
import HalyardTesting
import Testing

@Suite(.serialized)
struct CLITests {
    @Test func testValidateExitCodes() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("flags/production/reporting.json", Flags.disney)
        let valid = try HalyardBinary.run(["validate", "--repo", workspace.path])
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.contains("valid: 1 flag in 1 environment"))

        try workspace.write(
            "flags/production/bad.json",
            #"{"active": true, "baseSate": true, "rules": [[{"type": "filter", "attribute": "a", "operator": "=~", "comparator": 1}]]}"#
        )
        let invalid = try HalyardBinary.run(["validate", "--repo", workspace.path])
        #expect(invalid.status == 1)
        #expect(invalid.stdout.contains("flags/production/bad.json: /baseSate"))
        #expect(invalid.stdout.contains("did you mean \"baseState\"?"))
        #expect(invalid.stdout.contains("/rules/0/0/operator"))

        let json = try HalyardBinary.run(["validate", "--repo", workspace.path, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.contains { $0["pointer"] as? String == "/baseSate" && $0["file"] as? String == "flags/production/bad.json" })

        let missing = try HalyardBinary.run(["validate", "--repo", workspace.path + "/nope"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error:"))
    }

    @Test func testValidateAtARevision() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("flags/production/reporting.json", Flags.disney)
        try workspace.commit("good")
        try workspace.write("flags/production/reporting.json", "{ broken")
        try workspace.commit("bad")
        #expect(try HalyardBinary.run(["validate", "--repo", workspace.path, "--rev", "HEAD~1"]).status == 0)
        let bad = try HalyardBinary.run(["validate", "--repo", workspace.path, "--rev", "HEAD"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("line 1"))
        let unknown = try HalyardBinary.run(["validate", "--repo", workspace.path, "--rev", "no-such-branch"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown revision 'no-such-branch'"))
    }

    @Test func testEval() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("flags/production/reporting.json", Flags.disney)
        try workspace.write("flags/production/off.json", Flags.off)
        let yes = try HalyardBinary.run(
            ["eval", "production", "reporting", "--attr", "env=production", "--attr", "customer=pop tarts", "--repo", workspace.path]
        )
        #expect(yes.status == 0, "\(yes.stderr)")
        #expect(yes.stdout == "true\n")
        let no = try HalyardBinary.run(["eval", "production", "reporting", "--context", #"{"env": "QA"}"#, "--repo", workspace.path])
        #expect(no.stdout == "false\n")
        let explained = try HalyardBinary.run(
            ["eval", "production", "reporting", "--attr", "env=development", "--explain", "--repo", workspace.path]
        )
        #expect(explained.stdout.contains("TARGETING_MATCH"))
        #expect(explained.stdout.contains("group 1 of 2"))
        let off = try HalyardBinary.run(["eval", "production", "off", "--explain", "--repo", workspace.path])
        #expect(off.stdout.hasPrefix("true\nvariant: off\nreason: DISABLED"))
        let unknown = try HalyardBinary.run(["eval", "production", "nope", "--repo", workspace.path])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no flag 'nope' in environment 'production'"))
        let badContext = try HalyardBinary.run(["eval", "production", "reporting", "--context", "[1", "--repo", workspace.path])
        #expect(badContext.status == 64)
    }

    @Test func testDiffAndHistory() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("flags/production/reporting.json", Flags.disney)
        try workspace.write("flags/staging/reporting.json", Flags.disney)
        let first = try workspace.commit("add reporting")
        try workspace.write("flags/production/reporting.json", Flags.off)
        try workspace.write("flags/staging/reporting.json", Flags.disney.replacingOccurrences(of: "Reporting", with: "Reports"))
        try workspace.write("flags/production/new.json", Flags.off)
        let second = try workspace.commit("switch reporting off")

        let json = try HalyardBinary.run(["diff", first, second, "--repo", workspace.path, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(
            json.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"from":"\#(first)","to":"\#(second)","environments":{"production":{"added":["new"],"removed":[],"changed":["reporting"],"metadataChanged":[],"notes":{"new":["inactive: everybody gets `true`"],"reporting":["switched off: everybody gets `true`","baseState `false` → `true`","rules: 2 → 1 group"]}},"staging":{"added":[],"removed":[],"changed":[],"metadataChanged":["reporting"],"notes":{"reporting":["name, description or metadata only; no evaluation changes"]}}}}"#
        )
        let markdown = try HalyardBinary.run(["diff", "HEAD~1", "HEAD", "--repo", workspace.path, "--format", "markdown"])
        #expect(markdown.stdout.contains("#### production"))
        #expect(markdown.stdout.contains("**switched off**"))
        #expect(markdown.stdout.range(of: "#### production")!.lowerBound < markdown.stdout.range(of: "#### staging")!.lowerBound)

        let history = try HalyardBinary.run(["history", "production/reporting", "--repo", workspace.path, "--format", "json"])
        #expect(history.status == 0, "\(history.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["change"] as? String } == ["changed", "added"])
        #expect(entries.first?["author"] as? String == "Ada Lovelace")
        #expect(entries.first?["commit"] as? String == second)

        let withMetadata = try HalyardBinary.run(["history", "--env", "staging", "--all", "--repo", workspace.path, "--format", "json"])
        let stagingEntries = try #require(try JSONSerialization.jsonObject(with: Data(withMetadata.stdout.utf8)) as? [[String: Any]])
        #expect(stagingEntries.map { $0["change"] as? String } == ["metadata", "added"])

        let limited = try HalyardBinary.run(["history", "--limit", "1", "--repo", workspace.path, "--format", "json"])
        #expect((try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [Any])?.count == 1)

        let never = try HalyardBinary.run(["history", "production/never", "--repo", workspace.path])
        #expect(never.status == 1)
        #expect(never.stderr.contains("never existed"))
    }

    @Test func testRepositoryErrors() throws {
        let plain = try GitRepository(prefix: "halyard-cli", initialize: false)
        defer { plain.destroy() }
        let notRepo = try HalyardBinary.run(["diff", "HEAD~1", "HEAD", "--repo", plain.path])
        #expect(notRepo.status == 2)
        #expect(notRepo.stderr.contains("is not inside a git repository"))

        let empty = try GitRepository(prefix: "halyard-cli")
        defer { empty.destroy() }
        let emptyResult = try HalyardBinary.run(["history", "--repo", empty.path])
        #expect(emptyResult.status == 2)
        #expect(emptyResult.stderr.contains("has no commits yet"))
        #expect(emptyResult.stderr.split(separator: "\n").count == 1)
    }
}
