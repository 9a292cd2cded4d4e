import HalyardRules
import Testing

/// DESIGN §1's layout of the flags directory.
struct FlagPathTests {
    @Test func flagFiles() {
        #expect(FlagPath.classify("production/new-checkout.json") == .flag(environment: "production", id: "new-checkout"))
        #expect(FlagPath.classify("dev_2/Dark.Mode_v2.json") == .flag(environment: "dev_2", id: "Dark.Mode_v2"))
    }

    /// The usual ASCII `<environment>/<file>` is split by its one slash; every other path by characters, as a whole.
    /// Both ways agree on paths with empty components, and a slash that a combining mark joins is no separator.
    @Test func pathsAreSplitByCharactersWhicheverWayTheyAreRead() {
        let cases: [(String, FlagPath.Classification)] = [
            ("production/new.json", .flag(environment: "production", id: "new")),
            ("production//new.json", .flag(environment: "production", id: "new")),
            ("/production/new.json", .flag(environment: "production", id: "new")),
            ("production/new.json/", .flag(environment: "production", id: "new")),
            ("production/README.md", .ignored),
        ]
        for (path, expected) in cases {
            #expect(FlagPath.classify(path) == expected, "\(path)")
            #expect(FlagPath.classify(("flags/" + path).dropFirst(6)) == expected, "\(path) as a substring")
        }
        guard case .invalid(let message, _) = FlagPath.classify("production/\u{301}x.json") else {
            Issue.record("a slash with a combining mark is one character, so this file is directly in the flags directory")
            return
        }
        #expect(message.contains("directly in the flags directory"))
        guard case .invalid(let environmentMessage, _) = FlagPath.classify("produ\u{e9}/x.json") else {
            Issue.record("a non-ASCII environment name is invalid")
            return
        }
        #expect(environmentMessage == "invalid environment name \"produ\u{e9}\"")
    }

    @Test func nonJSONFilesAreIgnoredAnywhere() {
        for path in ["README.md", ".gitkeep", "production/.gitkeep", "production/notes.txt", "a/b/c/d.yaml", "production/x.JSON"] {
            #expect(FlagPath.classify(path) == .ignored, "\(path)")
        }
    }

    @Test func misplacedJSONFilesAreInvalid() {
        guard case .invalid(let message, let hint) = FlagPath.classify("new-checkout.json") else {
            Issue.record("a .json directly in flags/ must be invalid")
            return
        }
        #expect(message.contains("directly in the flags directory"))
        #expect(hint == "move it to <environment>/new-checkout.json, e.g. production/new-checkout.json")
        guard case .invalid(let deepMessage, let deepHint) = FlagPath.classify("production/eu/x.json") else {
            Issue.record("a nested .json must be invalid")
            return
        }
        #expect(deepMessage.contains("nested too deep"))
        #expect(deepHint == "move it to production/x.json")
    }

    @Test func badNamesAreInvalid() {
        for path in [
            "Production/x.json", "-prod/x.json", "prod/-x.json", "prod/.json", "prod/a b.json", "prod/é.json",
            String(repeating: "e", count: 64) + "/x.json", "prod/" + String(repeating: "i", count: 129) + ".json",
        ] {
            guard case .invalid = FlagPath.classify(path) else {
                Issue.record("\(path) must be invalid")
                continue
            }
        }
        #expect(
            FlagPath.classify(String(repeating: "e", count: 63) + "/" + String(repeating: "i", count: 128) + ".json")
                == .flag(environment: String(repeating: "e", count: 63), id: String(repeating: "i", count: 128)))
    }

    @Test func nameRules() {
        #expect(FlagPath.isValidEnvironment("production"))
        #expect(FlagPath.isValidEnvironment("0"))
        #expect(FlagPath.isValidEnvironment("eu-west_1"))
        #expect(!FlagPath.isValidEnvironment(""))
        #expect(!FlagPath.isValidEnvironment("_x"))
        #expect(!FlagPath.isValidEnvironment("Prod"))
        #expect(!FlagPath.isValidEnvironment("a.b"))
        #expect(FlagPath.isValidFlagID("A"))
        #expect(FlagPath.isValidFlagID("new-checkout.v2_final"))
        #expect(!FlagPath.isValidFlagID(""))
        #expect(!FlagPath.isValidFlagID(".hidden"))
        #expect(!FlagPath.isValidFlagID("a/b"))
        #expect(FlagPath.maximumFileSize == 1_048_576)
    }
}
