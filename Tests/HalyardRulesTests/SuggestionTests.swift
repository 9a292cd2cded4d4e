import HalyardRules
import Testing

/// `Suggestion.nearest`, which the CLI uses for configuration keys and environment variables.
struct SuggestionTests {
    @Test func nearestIgnoresCaseAndCountsATranspositionAsOneEdit() {
        let keys = ["repo.pollInterval", "repo.branch", "http.port"]
        #expect(Suggestion.nearest(to: "repo.polInterval", among: keys) == "repo.pollInterval")
        #expect(Suggestion.nearest(to: "REPO.BRANCHH", among: keys) == "repo.branch")
        #expect(Suggestion.nearest(to: "htpt.port", among: keys) == "http.port")
    }

    @Test func nearestAlwaysAnswersWhenThereIsACandidate() {
        #expect(Suggestion.nearest(to: "zzzzzzzz", among: ["a", "b"]) == "a")
        #expect(Suggestion.nearest(to: "x", among: [String]()) == nil)
    }
}
