import Foundation
import HalyardTesting
import Testing

/// `halyard eval`, `validate`, `diff` and `history` with typed flags (issue 11), run as a user would on a real
/// git repository.
@Suite(.serialized)
struct TypedFlagCLITests {
    enum Typed {
        static let enterprise = #"{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}"#
        static let benelux = #"{"type": "filter", "attribute": "country", "operator": "in", "comparator": "NL, BE"}"#

        /// DESIGN §1's checkout-layout flag, with the split's shares and the enterprise variant as parameters.
        static func layout(compact: Int = 50, enterprise variant: String = "one-page", active: Bool = true, defaultVariant: String = "classic")
            -> String
        {
            """
            {"name": "Checkout layout", "active": \(active),
             "variants": {"classic": "classic", "one-page": "one-page", "compact": "compact"},
             "defaultVariant": "\(defaultVariant)",
             "rules": [
               {"when": [\(enterprise)], "serve": "\(variant)"},
               {"when": [\(benelux)],
                "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": \(compact)}, {"variant": "classic", "percentage": \(100 - compact)}]}}
             ]}
            """
        }

        static let pageSize = #"""
            {"active": true, "variants": {"small": 10, "float": 10.0, "huge": 9007199254740991}, "defaultVariant": "small",
             "rules": [{"when": [{"type": "filter", "attribute": "size", "operator": "==", "comparator": "float"}], "serve": "float"},
                       {"when": [{"type": "filter", "attribute": "size", "operator": "==", "comparator": "huge"}], "serve": "huge"}]}
            """#
        static let config = #"""
            {"active": true, "variants": {"small": {"rows": 10, "dense": false}, "big": {"rows": 50, "columns": ["a", "b"]}}, "defaultVariant": "small",
             "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "big"}]}
            """#
        static let staticFlag = #"{"active": true, "variants": {"a": "alpha", "b": "beta"}, "defaultVariant": "b", "rules": []}"#
        /// A split on `accountId` first; users without it fall through to the `serve` group for everybody.
        static let fallThrough = #"""
            {"active": true, "variants": {"a": "alpha", "b": "beta", "c": "gamma"}, "defaultVariant": "a",
             "rules": [{"when": [], "split": {"attribute": "accountId", "variants": [{"variant": "b", "percentage": 100}]}},
                       {"when": [], "serve": "c"}]}
            """#
    }

    func eval(_ workspace: GitRepository, _ flag: String, _ arguments: [String] = []) throws -> HalyardBinary.Result {
        try HalyardBinary.run(["eval", "production", flag, "--repo", workspace.path] + arguments)
    }

    // MARK: - eval

    @Test func evalPrintsTypedValuesAsJSON() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        try workspace.write("flags/production/checkout-layout.json", Typed.layout())
        try workspace.write("flags/production/page-size.json", Typed.pageSize)
        try workspace.write("flags/production/config.json", Typed.config)

        let string = try eval(workspace, "checkout-layout", ["--attr", "plan=enterprise", "--explain"])
        #expect(string.status == 0, "\(string.stderr)")
        #expect(
            string.stdout
                == """
                "one-page"
                variant: one-page
                reason: TARGETING_MATCH
                group: 1 of 2
                rule group 1 of 2 matched and serves `one-page` ("one-page")

                """
        )

        #expect(try eval(workspace, "page-size").stdout == "10\n")
        #expect(try eval(workspace, "page-size", ["--attr", "size=float"]).stdout == "10.0\n")
        #expect(try eval(workspace, "page-size", ["--attr", "size=huge"]).stdout == "9007199254740991\n")
        let object = try eval(workspace, "config", ["--context", #"{"plan": "enterprise"}"#, "--explain"])
        #expect(object.stdout.hasPrefix(#"{"columns":["a","b"],"rows":50}"# + "\nvariant: big\nreason: TARGETING_MATCH\n"))
        #expect(try eval(workspace, "config").stdout.hasPrefix(#"{"dense":false,"rows":10}"#))
    }

    @Test func evalExplainsEveryReason() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        try workspace.write("flags/production/checkout-layout.json", Typed.layout())
        try workspace.write("flags/production/off.json", Typed.layout(active: false, defaultVariant: "compact"))
        try workspace.write("flags/production/static.json", Typed.staticFlag)
        try workspace.write("flags/production/fall-through.json", Typed.fallThrough)

        let split = try eval(workspace, "checkout-layout", ["--attr", "country=NL", "--attr", "userId=u-1", "--explain"])
        #expect(split.status == 0, "\(split.stderr)")
        let lines = split.stdout.split(separator: "\n").map(String.init)
        #expect(["\"compact\"", "\"classic\""].contains(lines.first))
        #expect(lines.contains("reason: SPLIT"))
        #expect(lines.contains("group: 2 of 2"))
        #expect(lines.last?.hasPrefix("rule group 2 of 2 matched and its split chose `") == true)
        // The same user gets the same variant every time.
        #expect(try eval(workspace, "checkout-layout", ["--attr", "country=NL", "--attr", "userId=u-1"]).stdout == lines[0] + "\n")

        let noMatch = try eval(workspace, "checkout-layout", ["--attr", "country=FR", "--explain"])
        #expect(noMatch.stdout.hasPrefix("\"classic\"\nvariant: classic\nreason: DEFAULT\n"))
        #expect(noMatch.stdout.contains("no rule group matched (2 groups), so the user gets the default variant `classic`"))

        let off = try eval(workspace, "off", ["--attr", "plan=enterprise", "--explain"])
        #expect(
            off.stdout
                == "\"compact\"\nvariant: compact\nreason: DISABLED\nthe flag is inactive, so every user gets the default variant `compact` (\"compact\")\n"
        )

        let fixed = try eval(workspace, "static", ["--explain"])
        #expect(
            fixed.stdout
                == "\"beta\"\nvariant: b\nreason: STATIC\nthe flag has no rule groups, so every user gets the default variant `b` (\"beta\")\n"
        )

        let through = try eval(workspace, "fall-through", ["--attr", "userId=u-1", "--explain"])
        #expect(through.stdout.hasPrefix("\"gamma\"\nvariant: c\nreason: TARGETING_MATCH\ngroup: 2 of 2\n"))
        let nullAccount = try eval(workspace, "fall-through", ["--context", #"{"accountId": null}"#])
        #expect(nullAccount.stdout == "\"gamma\"\n")
        let withAccount = try eval(workspace, "fall-through", ["--attr", "accountId=acme", "--explain"])
        #expect(withAccount.stdout.hasPrefix("\"beta\"\nvariant: b\nreason: SPLIT\ngroup: 1 of 2\n"))
    }

    @Test func evalOfAnInvalidTypedFlagNamesItsErrors() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        try workspace.write("flags/production/bad.json", #"{"active": true, "variants": {"a": 1, "b": "x"}, "defaultVariant": "a", "rules": []}"#)
        let result = try eval(workspace, "bad")
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("flags/production/bad.json: /variants/b: variant \"b\" is a string, but \"a\" is a number"))
    }

    // MARK: - validate

    /// One file per DESIGN §1 error, and the pointer its error has.
    static let invalidFiles: [(file: String, json: String, pointer: String, message: String)] = [
        ("mixed", #"{"active": true, "variants": {"a": "x", "b": 1}, "defaultVariant": "a", "rules": []}"#, "/variants/b", "is a number, but"),
        (
            "unknown-default", #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "c", "rules": []}"#, "/defaultVariant",
            #"unknown variant "c""#
        ),
        (
            "unknown-serve", #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [{"when": [], "serve": "bb"}]}"#,
            "/rules/0/serve", #"unknown variant "bb""#
        ),
        (
            "unknown-split",
            #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 50}, {"variant": "q", "percentage": 50}]}}]}"#,
            "/rules/0/split/variants/1/variant", #"unknown variant "q""#
        ),
        (
            "both",
            #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [{"when": [], "serve": "a", "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 100}]}}]}"#,
            "/rules/0", #"either "serve" or "split", not both"#
        ),
        (
            "neither", #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [{"when": []}]}"#, "/rules/0",
            #"needs "serve" or "split""#
        ),
        (
            "sum",
            #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 50}, {"variant": "b", "percentage": 49.5}]}}]}"#,
            "/rules/0/split/variants", "add up to 99.5, not 100"
        ),
        (
            "array-group", #"{"active": true, "variants": {"a": "x", "b": "y"}, "defaultVariant": "a", "rules": [[{"type": "everybody"}]]}"#,
            "/rules/0", "must be an object"
        ),
        ("object-group", #"{"active": true, "rules": [{"when": [], "serve": "a"}]}"#, "/rules/0", #"needs "variants""#),
        (
            "base-state", #"{"active": true, "baseState": true, "variants": {"a": "x"}, "defaultVariant": "a", "rules": []}"#, "/baseState",
            #""baseState" is not allowed with "variants""#
        ),
    ]

    @Test func validateReportsEveryTypedErrorWithItsPointer() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        try workspace.write("flags/production/checkout-layout.json", Typed.layout())
        let valid = try HalyardBinary.run(["validate", "--repo", workspace.path])
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")

        for file in Self.invalidFiles { try workspace.write("flags/production/\(file.file).json", file.json) }
        let text = try HalyardBinary.run(["validate", "--repo", workspace.path])
        #expect(text.status == 1)
        for file in Self.invalidFiles {
            let prefix = "error: flags/production/\(file.file).json: \(file.pointer): "
            let line = text.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }
            #expect(line?.contains(file.message) == true, "\(file.file): no \(prefix)…\(file.message) in\n\(text.stdout)")
        }
        #expect(text.stdout.contains(#"/rules/0/serve: unknown variant "bb" (hint: the variants are "a" and "b")"#))
        #expect(text.stdout.contains("invalid: \(Self.invalidFiles.count) errors"))

        let json = try HalyardBinary.run(["validate", "--repo", workspace.path, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let errors = try #require(object["errors"] as? [[String: Any]])
        #expect(errors.count == Self.invalidFiles.count)
        for file in Self.invalidFiles {
            let error = errors.first { $0["file"] as? String == "flags/production/\(file.file).json" }
            #expect(error?["pointer"] as? String == file.pointer, "\(file.file)")
            #expect((error?["message"] as? String)?.contains(file.message) == true, "\(file.file)")
            #expect(error?["hint"] is String, "\(file.file) has no hint")
        }
    }

    // MARK: - diff and history

    /// Commits the layout flag, then a change of it; returns both commits.
    func changeLayout(_ workspace: GitRepository, from old: String, to new: String) throws -> (String, String) {
        try workspace.write("flags/production/checkout-layout.json", old)
        let first = try workspace.commit("add checkout-layout")
        try workspace.write("flags/production/checkout-layout.json", new)
        let second = try workspace.commit("change checkout-layout")
        return (first, second)
    }

    func diff(_ workspace: GitRepository, _ format: String) throws -> String {
        let result = try HalyardBinary.run(["diff", "HEAD~1", "HEAD", "--repo", workspace.path, "--format", format])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func diffDescribesServeAndSplitChangesInEveryFormat() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        let (first, second) = try changeLayout(workspace, from: Typed.layout(), to: Typed.layout(compact: 70, enterprise: "compact"))
        let serves = "serves `compact` to enterprise (was `one-page`)"
        let split = "split 50/50 → 70/30 between `compact`/`classic` for country in NL, BE"

        let markdown = try diff(workspace, "markdown")
        #expect(markdown.contains("| `checkout-layout` | changed | \(serves); \(split) |"), "\(markdown)")

        let text = try diff(workspace, "text")
        #expect(text == "production\n  changed   checkout-layout\n            - \(serves)\n            - \(split)\n")

        let json = try diff(workspace, "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["from"] as? String == first)
        #expect(object["to"] as? String == second)
        let production = try #require((object["environments"] as? [String: Any])?["production"] as? [String: Any])
        #expect(production["changed"] as? [String] == ["checkout-layout"])
        #expect((production["notes"] as? [String: [String]])?["checkout-layout"] == [serves, split])
    }

    @Test func diffDescribesDefaultVariantAndVariantValues() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        let new = Typed.layout(defaultVariant: "compact")
            .replacingOccurrences(of: #""compact": "compact""#, with: #""compact": "dense", "wide": "wide""#)
            .replacingOccurrences(of: #""one-page": "one-page", "#, with: "")
            .replacingOccurrences(of: #""serve": "one-page""#, with: #""serve": "wide""#)
        _ = try changeLayout(workspace, from: Typed.layout(), to: new)
        let markdown = try diff(workspace, "markdown")
        for note in [
            "default variant `classic` → `compact`", #"variant `compact` value `"compact"` → `"dense"`"#, "variant `one-page` removed",
            #"variant `wide` added (`"wide"`)"#, "serves `wide` to enterprise (was `one-page`)",
        ] {
            #expect(markdown.contains(note), "no \(note) in\n\(markdown)")
        }
    }

    @Test func diffDescribesSwitchingOffAddingAndRemovingTypedFlags() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        try workspace.write("flags/production/checkout-layout.json", Typed.layout())
        try workspace.write("flags/production/static.json", Typed.staticFlag)
        _ = try workspace.commit("add")
        try workspace.write("flags/production/checkout-layout.json", Typed.layout(active: false))
        try workspace.remove("flags/production/static.json")
        try workspace.write("flags/production/page-size.json", Typed.pageSize)
        _ = try workspace.commit("switch off, remove, add")
        let markdown = try diff(workspace, "markdown")
        #expect(markdown.contains(#"| `checkout-layout` | changed | **switched off**: everybody gets `classic` (`"classic"`) |"#), "\(markdown)")
        #expect(markdown.contains("| `static` | removed | clients get their own default from now on (unknown flag: `FLAG_NOT_FOUND`) |"))
        #expect(
            markdown.contains(
                "| `page-size` | added | active, number variants `float`, `huge`, `small`; default variant `small`; serves `float` to float; serves `huge` to huge |"
            ),
            "\(markdown)"
        )
        let text = try diff(workspace, "text")
        #expect(text.contains("  changed   checkout-layout\n            - switched off: everybody gets `classic` (`\"classic\"`)\n"))
    }

    @Test func diffPairsRuleGroupsWhenOneIsAddedOrRemoved() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        let benelux = #"{"type": "filter", "attribute": "country", "operator": "in", "comparator": ["NL", "BE"]}"#
        let old = #"""
            {"active": true, "variants": {"a": "A", "b": "B", "c": "C"}, "defaultVariant": "a", "rules": [
              {"when": [\#(Typed.enterprise)], "serve": "b"},
              {"when": [\#(benelux), {"type": "%", "percentage": 25, "attribute": "userId"}], "serve": "c"},
              {"when": [], "split": {"attribute": "userId", "variants": [{"variant": "a", "percentage": 50}, {"variant": "b", "percentage": 50}]}}
            ]}
            """#
        let new = #"""
            {"active": true, "variants": {"a": "A", "b": "B", "c": "C"}, "defaultVariant": "a", "rules": [
              {"when": [\#(Typed.enterprise)], "split": {"attribute": "userId", "variants": [{"variant": "b", "percentage": 50}, {"variant": "c", "percentage": 50}]}},
              {"when": [\#(benelux), {"type": "%", "percentage": 50, "attribute": "userId"}], "serve": "c"},
              {"when": [{"type": "filter", "attribute": "beta", "operator": "==", "comparator": true}], "serve": "a"},
              {"when": [], "split": {"attribute": "accountId", "variants": [
                {"variant": "a", "percentage": 50}, {"variant": "b", "percentage": 25}, {"variant": "c", "percentage": 25}]}}
            ]}
            """#
        _ = try changeLayout(workspace, from: old, to: new)
        let notes = [
            "rule groups: 3 → 4",
            "splits enterprise 50/50 between `b`/`c` (was `b`)",
            "serves `c` to country in NL, BE and 50% of users by userId (was to country in NL, BE and 25% of users by userId)",
            "serves `a` to beta == true (new rule group)",
            "split for everybody: 50/50 between `a`/`b` → 50/25/25 between `a`/`b`/`c`; bucketed by `accountId` (was `userId`), so users are split anew",
        ]
        #expect(try diff(workspace, "text") == "production\n  changed   checkout-layout\n" + notes.map { "            - \($0)\n" }.joined())

        let back = try HalyardBinary.run(["diff", "HEAD", "HEAD~1", "--repo", workspace.path])
        #expect(back.stdout.contains("            - rule groups: 4 → 3\n"))
        #expect(back.stdout.contains("            - no longer serves `a` to beta == true\n"))
    }

    @Test func diffKeepsBooleanWording() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        let rollout = #"{"active": true, "rules": [[{"type": "%", "percentage": 25, "attribute": "userId"}]]}"#
        _ = try changeLayout(workspace, from: rollout, to: rollout.replacingOccurrences(of: "25", with: "50"))
        #expect(try diff(workspace, "markdown").contains("| `checkout-layout` | changed | rollout 25% → 50% |"))
        #expect(try diff(workspace, "text").contains("            - rollout 25% → 50%\n"))
    }

    @Test func diffOfAFlagThatBecomesTyped() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        _ = try changeLayout(workspace, from: #"{"active": true, "rules": []}"#, to: Typed.staticFlag)
        let markdown = try diff(workspace, "markdown")
        #expect(markdown.contains("became a typed flag: active, string variants `a`, `b`; default variant `b`; no rule groups"), "\(markdown)")
    }

    @Test func diffEscapesPipesInMarkdownCells() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        _ = try changeLayout(workspace, from: Typed.staticFlag, to: Typed.staticFlag.replacingOccurrences(of: "beta", with: "be|ta"))
        let markdown = try diff(workspace, "markdown")
        #expect(markdown.contains(#"variant `b` value `"beta"` → `"be\|ta"`"#), "\(markdown)")
    }

    @Test func historyTextDescribesTypedChangesAndJSONKeepsItsFields() throws {
        let workspace = try GitRepository(prefix: "halyard-typed")
        defer { workspace.destroy() }
        let (_, second) = try changeLayout(workspace, from: Typed.layout(), to: Typed.layout(compact: 70, enterprise: "compact"))
        try workspace.write(
            "flags/production/checkout-layout.json",
            Typed.layout(compact: 70, enterprise: "compact").replacingOccurrences(of: "\n", with: " ")
        )
        _ = try workspace.commit("reformat")

        let text = try HalyardBinary.run(["history", "production/checkout-layout", "--repo", workspace.path])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(text.stdout)")
        #expect(lines[0].hasPrefix(String(second.prefix(7))))
        #expect(lines[0].contains("changed   production/checkout-layout"))
        #expect(lines[1] == "         - serves `compact` to enterprise (was `one-page`)")
        #expect(lines[2] == "         - split 50/50 → 70/30 between `compact`/`classic` for country in NL, BE")
        #expect(lines[3].contains("added     production/checkout-layout"))
        #expect(lines[4].hasPrefix("         - active, string variants `classic`, `compact`, `one-page`; default variant `classic`"))

        let json = try HalyardBinary.run(["history", "production/checkout-layout", "--repo", workspace.path, "--format", "json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["change"] as? String } == ["changed", "added"])
        for entry in entries {
            #expect(Set(entry.keys) == ["commit", "author", "email", "date", "subject", "environment", "flag", "change"])
        }
    }
}
