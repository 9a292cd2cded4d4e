import Foundation
import HalyardTesting
import Testing

/// What a newcomer meets first: usage errors, `--help`, and the exit status of each (README "Command line").
@Suite(.serialized)
struct UsageTests {
    /// A repository with one committed flag, so that only the command line can be wrong.
    private func withWorkspace(_ body: (GitRepository) throws -> Void) throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        try workspace.write("flags/production/reporting.json", Flags.disney)
        try workspace.commit("add reporting")
        try body(workspace)
    }

    /// Help text with its line wrapping (which follows the terminal width) undone.
    private func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test func testUsageErrorsExit64WithTheUsage() throws {
        try withWorkspace { workspace in
            let repo = ["--repo", workspace.path]
            let cases: [(arguments: [String], message: String)] = [
                (["validate", "--format", "xml"] + repo, "'xml'"),
                (["validate", "--frobnicate"] + repo, "--frobnicate"),
                (["diff", "HEAD"] + repo, "<to>"),
                (["history", "--limit", "x"] + repo, "'x'"),
                (["history", "--limit", "0"] + repo, "--limit must be at least 1"),
                (["history", "production"] + repo, "the flag is ENV/FLAG"),
                (["history", "production/reporting", "--env", "production"] + repo, "not both"),
                (["eval", "production"] + repo, "<flag>"),
                (["eval", "Production", "reporting"] + repo, "not a valid environment name"),
                (["eval", "production", "reporting", "--context", "[1"] + repo, "--context is not valid JSON"),
                (["eval", "production", "reporting", "--context", "[1]"] + repo, "--context must be a JSON object"),
                (["eval", "production", "reporting", "--attr", "no-equals"] + repo, "--attr takes key=value"),
                (["serve", "--port", "eighty"], "'eighty'"),
            ]
            for (arguments, message) in cases {
                let result = try HalyardBinary.run(arguments, in: workspace.path)
                let command = "halyard " + arguments.joined(separator: " ")
                #expect(result.status == 64, "\(command): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
                #expect(result.stderr.contains("Usage: halyard"), "\(command): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(command): \(result.stdout)")
            }
        }
    }

    @Test func testTheOtherExitCodesStayAsDocumented() throws {
        try withWorkspace { workspace in
            #expect(try HalyardBinary.run(["validate", "--repo", workspace.path]).status == 0)
            #expect(try HalyardBinary.run(["history", "production/reporting", "--repo", workspace.path]).status == 0)
            let unknownFlag = try HalyardBinary.run(["eval", "production", "nope", "--repo", workspace.path])
            #expect(unknownFlag.status == 1)
            #expect(unknownFlag.stderr.hasPrefix("error: no flag 'nope'"))
            let unknownRevision = try HalyardBinary.run(["validate", "--rev", "nowhere", "--repo", workspace.path])
            #expect(unknownRevision.status == 2)
            #expect(unknownRevision.stderr == "error: unknown revision 'nowhere' in \(workspace.path)\n")
        }
    }

    @Test func testHelpListsOnlyTheFormatsACommandAccepts() throws {
        for command in ["validate", "history"] {
            let help = try HalyardBinary.run([command, "--help"])
            #expect(help.status == 0)
            #expect(unwrapped(help.stdout).contains("--format <format> Output format. (values: text, json; default: text)"), "\(help.stdout)")
            #expect(!help.stdout.contains("markdown"), "\(command) --help: \(help.stdout)")

            try withWorkspace { workspace in
                let refused = try HalyardBinary.run([command, "--format", "markdown", "--repo", workspace.path])
                #expect(refused.status == 64)
                #expect(refused.stderr.contains("'markdown'"), "\(refused.stderr)")
                #expect(refused.stderr.contains("Please provide one of 'text' and 'json'"), "\(refused.stderr)")
                #expect(refused.stdout.isEmpty)
            }
        }
        let diffHelp = try HalyardBinary.run(["diff", "--help"])
        #expect(unwrapped(diffHelp.stdout).contains("(values: text, json, markdown; default: text)"), "\(diffHelp.stdout)")
    }

    @Test func testHelpStatesTheExitCodes() throws {
        let root = try HalyardBinary.run(["--help"])
        #expect(unwrapped(root.stdout).contains("1 invalid flags or a failed command, 2 repository or I/O error, 64 usage error"), "\(root.stdout)")
        let validate = try HalyardBinary.run(["validate", "--help"])
        #expect(unwrapped(validate.stdout).contains("0 valid (warnings allowed), 1 invalid, 2 repository or I/O error, 64 usage error"))
        #expect(!unwrapped(validate.stdout).contains("2 usage"))
    }

    @Test func testHalyardSubscriptionsSaysTheConfigFileHoldsSubscriptions() throws {
        let workspace = try GitRepository(prefix: "halyard-cli")
        defer { workspace.destroy() }
        let result = try HalyardBinary.run(
            ["serve"],
            in: workspace.path,
            environment: ["HALYARD_SUBSCRIPTIONS": #"[{"url": "http://127.0.0.1:9/hook", "environments": ["production"]}]"#]
        )
        #expect(result.status == 2)
        #expect(
            result.stderr.hasPrefix("error: HALYARD_SUBSCRIPTIONS is not read: subscriptions are set in the config file only"),
            "\(result.stderr)"
        )
        #expect(!result.stderr.contains("did you mean"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
