import Foundation
import HalyardRules
import Testing

/// `Flag.forEachCanonicalMember` writes the normalised flag's members without building it; fingerprints, and so ETags
/// and change detection, hash that text. It must be byte for byte what writing `normalizedJSON` canonically gives.
struct CanonicalMembersTests {
    /// The canonical text of the normalised flag, joined from the members in the order they come.
    static func joined(_ flag: Flag) -> (keys: [String], text: String) {
        var keys: [String] = []
        var text: [UInt8] = [UInt8(ascii: "{")]
        flag.forEachCanonicalMember { key, member in
            if !keys.isEmpty { text.append(UInt8(ascii: ",")) }
            keys.append(key)
            text.append(contentsOf: member)
        }
        text.append(UInt8(ascii: "}"))
        return (keys, String(decoding: text, as: UTF8.self))
    }

    static func expectSameAsNormalizedJSON(_ flag: Flag, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var canonical: [UInt8] = []
        JSONWriter.appendCanonical(flag.normalizedJSON, to: &canonical)
        let (keys, text) = joined(flag)
        #expect(text == String(decoding: canonical, as: UTF8.self), "\(what)", sourceLocation: sourceLocation)
        guard case .object(let members) = flag.normalizedJSON else {
            Issue.record("\(what): the normalised flag is not an object", sourceLocation: sourceLocation)
            return
        }
        #expect(keys == members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "\(what)", sourceLocation: sourceLocation)
    }

    @Test func testEveryKindOfRuleGroupAndValueIsWrittenAsTheNormalisedFlagIs() {
        let texts = [
            #"{"active": false, "rules": []}"#,
            #"{"active": true, "baseState": true, "name": "Ünïcode \"quoted\" \\ name", "description": "tab\tnew\nline \u0001", "rules": [[{"type": "everybody"}], [{"type": "nobody"}]]}"#,
            #"""
            {"active": true, "rules": [
              [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "Enterprise"},
               {"type": "filter", "attribute": "country", "operator": "in", "comparator": ["NL", "BE", 3, true]},
               {"type": "filter", "attribute": "age", "operator": ">=", "comparator": 21.5},
               {"type": "filter", "attribute": "beta", "operator": "==", "comparator": false}],
              [{"type": "%", "percentage": 12.5, "attribute": "userId"}, {"type": "%", "percentage": 33.33}],
              [{"type": "%", "percentage": 0}, {"type": "%", "percentage": 100, "attribute": "ü"}]
            ], "metadata": {"z": 1, "a": {"nested": [1, 2, {"y": null, "b": "x"}]}, "é": "accent", "A": 1e21, "small": 0.000001}}
            """#,
            #"""
            {"active": true, "variants": {"one-page": {"columns": 1, "a": [true]}, "classic": {"columns": 2}, "zero": {}, "off": {"z": null, "é": "x\"y"}},
             "defaultVariant": "classic", "rules": [
              {"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"},
              {"when": [], "split": {"attribute": "targetingKey", "variants": [{"variant": "zero", "percentage": 33.33}, {"variant": "classic", "percentage": 66.67}]}},
              {"when": [{"type": "%", "percentage": 50, "attribute": "userId"}], "serve": "off"}
            ], "metadata": {"owner": "team"}}
            """#,
        ]
        for (index, text) in texts.enumerated() {
            Self.expectSameAsNormalizedJSON(Fixtures.flag(text, id: "flag-\(index)"), "text \(index)")
        }
        // A 0.2 file, normalised to groups.
        Self.expectSameAsNormalizedJSON(Fixtures.flag(#"{"active": true, "matchRules": "ANY", "rules": [{"type": "filter", "attribute": "a", "operator": "!=", "comparator": "b"}, {"type": "%", "percentage": 10}]}"#), "0.2")
    }

    /// Every valid flag of the example repository and of the fuzzing corpus.
    @Test func testTheExampleAndCorpusFlagsAreWrittenAsTheirNormalisedForm() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var checked = 0
        for directory in ["flags/development", "flags/production", "flags/staging", "Fuzz/Corpus/flag"] {
            let url = root.appendingPathComponent(directory)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { continue }
            for name in names.sorted() where name.hasSuffix(".json") {
                let bytes = try [UInt8](Data(contentsOf: url.appendingPathComponent(name)))
                guard let flag = FlagDecoder.decode(bytes, id: String(name.dropLast(5)), file: name).flag else { continue }
                Self.expectSameAsNormalizedJSON(flag, "\(directory)/\(name)")
                checked += 1
            }
        }
        #expect(checked >= 15)
    }
}
