import HalyardRules
import HalyardSync
import Testing

/// The plain-words describer of what a flag serves (the console's summaries and rules), and the diff report that
/// `halyard diff --format markdown` and the console's diff page share.
struct FlagDescriptionTests {
    func flag(_ json: String, id: String = "f") throws -> Flag {
        try #require(FlagDecoder.decode(json, id: id, file: "flags/production/\(id).json").flag)
    }

    @Test func testBooleanSummaries() throws {
        let rollout = try flag(
            #"{"active": true, "rules": [[{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], [{"type": "%", "percentage": 25, "attribute": "userId"}]]}"#
        )
        #expect(FlagDescription.summary(rollout) == "on for enterprise + 25% of userId")
        #expect(
            FlagDescription.rules(rollout) == [
                "group 1: `true` for plan == enterprise", "group 2: `true` for 25% of users by userId", "everybody else: `false` (baseState)",
            ]
        )
        #expect(FlagDescription.summary(try flag(#"{"active": true, "rules": [[]]}"#)) == "on for everybody")
        #expect(FlagDescription.summary(try flag(#"{"active": true, "rules": []}"#)) == "off for everybody")
        let inactive = try flag(#"{"active": false, "rules": [[]]}"#)
        #expect(FlagDescription.summary(inactive) == "off for everybody")
        #expect(FlagDescription.rules(inactive) == ["inactive: everybody gets `false`"])
        let inverted = try flag(
            #"{"active": true, "baseState": true, "rules": [[{"type": "filter", "attribute": "country", "operator": "in", "comparator": ["NL", "BE"]}]]}"#
        )
        #expect(FlagDescription.summary(inverted) == "off for country in NL, BE")
    }

    @Test func testTypedSummaries() throws {
        let variants = #""variants": {"compact": "compact", "classic": "classic", "one-page": "one-page"}, "defaultVariant": "classic""#
        let split = try flag(
            #"{"active": true, \#(variants), "rules": [{"when": [], "split": {"attribute": "userId", "variants": [{"variant": "compact", "percentage": 50}, {"variant": "classic", "percentage": 50}]}}]}"#
        )
        #expect(FlagDescription.summary(split) == "split 50/50 `compact`/`classic`")
        #expect(
            FlagDescription.rules(split) == [
                "group 1: splits everybody 50/50 between `compact`/`classic` by `userId`",
                "everybody else: `classic` (`\"classic\"`) (default variant)",
            ]
        )
        let targeted = try flag(
            #"{"active": true, \#(variants), "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "enterprise"}], "serve": "one-page"}]}"#
        )
        #expect(FlagDescription.summary(targeted) == "`one-page` for enterprise; else `classic`")
        #expect(FlagDescription.summary(try flag(#"{"active": true, \#(variants), "rules": []}"#)) == "serves `classic` to everybody")
        #expect(FlagDescription.summary(try flag(#"{"active": false, \#(variants), "rules": []}"#)) == "serves `classic` to everybody")
        #expect(
            FlagDescription.summary(try flag(#"{"active": true, \#(variants), "rules": [{"when": [], "serve": "compact"}]}"#))
                == "serves `compact` to everybody"
        )
    }
}
