import HalyardGit
import Testing

@testable import HalyardSync

struct FlagHistoryTests {
    /// A branch with add, reformat, metadata, change, a merge, another environment and a removal.
    func makeHistory() throws -> TestRepository {
        let repo = try TestRepository()
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.commit("add a")
        try repo.write("flags/production/a.json", FlagText.simpleReformatted)
        try repo.commit("reformat a")
        try repo.write("flags/production/a.json", FlagText.simple(name: "Alpha"))
        try repo.commit("rename a")
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.write("flags/production/a.json", FlagText.simple(active: false, name: "Alpha"))
        try repo.commit("switch a off")
        try repo.git("checkout", "-q", "main")
        try repo.write("flags/staging/b.json", FlagText.simple())
        try repo.commit("add staging b")
        try repo.git("-c", "user.name=Merger", "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
        try repo.write("docs/readme.md", "docs only")
        try repo.commit("docs")
        try repo.delete("flags/staging/b.json")
        try repo.commit("remove staging b")
        return repo
    }

    @Test func testOneFlagNewestFirstWithoutMetadata() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        let repository = try repo.open()
        var history = FlagHistory(repository: repository)
        let entries = try history.entries(from: try repository.resolveCommit("HEAD"), selection: .flag(environment: "production", id: "a"))
        #expect(entries.map(\.subject) == ["merge feature", "add a"])
        #expect(entries.map(\.change) == [.changed, .added])
        #expect(entries.last?.author == "Ada Lovelace")
        #expect(entries.last?.email == "ada@example.com")
    }

    @Test func testAllIncludesMetadataChanges() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        let repository = try repo.open()
        var history = FlagHistory(repository: repository)
        let entries = try history.entries(
            from: try repository.resolveCommit("HEAD"),
            selection: .flag(environment: "production", id: "a"),
            includeMetadata: true
        )
        #expect(entries.map(\.subject) == ["merge feature", "rename a", "add a"])
        #expect(entries.map(\.change) == [.changed, .metadata, .added])
    }

    @Test func testEnvironmentAndEverythingAndLimit() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        let repository = try repo.open()
        let head = try repository.resolveCommit("HEAD")
        var history = FlagHistory(repository: repository)
        let staging = try history.entries(from: head, selection: .environment("staging"))
        #expect(staging.map(\.change) == [.removed, .added])
        let everything = try history.entries(from: head, selection: .all)
        #expect(everything.map(\.subject) == ["remove staging b", "merge feature", "add staging b", "add a"])
        let limited = try history.entries(from: head, selection: .all, limit: 2)
        #expect(limited.map(\.subject) == ["remove staging b", "merge feature"])
    }

    /// The whole history is read one environment at a time; it must list exactly what the commit-by-commit walk does,
    /// in the same order: several environments in one commit (git's tree order: "a-b" before "a"), an environment
    /// removed and added back, a file that is no flag, a merge, metadata-only edits.
    @Test func testTheWholeHistoryReadByEnvironmentEqualsTheCommitByCommitWalk() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        try repo.write("flags/a/x.json", FlagText.simple())
        try repo.write("flags/a-b/x.json", FlagText.simple())
        try repo.write("flags/production/c.json", FlagText.simple())
        try repo.commit("three environments at once")
        try repo.write("flags/a/x.json", FlagText.simple(active: false))
        try repo.write("flags/a-b/x.json", FlagText.simple(name: "X"))
        try repo.write("flags/README.md", "not a flag")
        try repo.commit("switch a/x off, rename a-b/x")
        try repo.delete("flags/a/x.json")
        try repo.commit("remove environment a")
        try repo.write("flags/a/x.json", FlagText.simple(customer: "Pixar"))
        try repo.write("flags/a/nested/y.json", FlagText.simple())
        try repo.commit("environment a again")
        let repository = try repo.open()
        let head = try repository.resolveCommit("HEAD")
        for includeMetadata in [false, true] {
            var byEnvironment = FlagHistory(repository: repository)
            var byCommit = FlagHistory(repository: repository)
            let whole = try byEnvironment.entries(from: head, selection: .all, includeMetadata: includeMetadata)
            // A limit takes the commit-by-commit walk, which stops as soon as it has enough.
            let walked = try byCommit.entries(from: head, selection: .all, includeMetadata: includeMetadata, limit: .max)
            #expect(whole == walked)
        }
        var history = FlagHistory(repository: repository)
        let entries = try history.entries(from: head, selection: .all)
        #expect(entries.prefix(4).map { "\($0.environment)/\($0.flag) \($0.change)" } == ["a/x added", "a/x removed", "a/x changed", "a-b/x added"])
    }

    @Test func testAFlagThatNeverExistedIsAnError() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        let repository = try repo.open()
        var history = FlagHistory(repository: repository)
        #expect(throws: HistoryError.self) {
            try history.entries(from: try repository.resolveCommit("HEAD"), selection: .flag(environment: "production", id: "nope"))
        }
        #expect(throws: HistoryError.self) {
            try history.entries(from: try repository.resolveCommit("HEAD"), selection: .environment("qa"))
        }
    }

    @Test func testAHistoryErrorNamesItsKindAndPath() throws {
        let repo = try makeHistory()
        defer { repo.remove() }
        let repository = try repo.open()
        let head = try repository.resolveCommit("HEAD")
        var history = FlagHistory(repository: repository)

        let flagError = #expect(throws: HistoryError.self) {
            try history.entries(from: head, selection: .flag(environment: "production", id: "nope"))
        }
        guard case .flagNeverExisted(let environment, let id) = flagError?.kind else {
            Issue.record("expected flagNeverExisted, got \(String(describing: flagError?.kind))")
            return
        }
        #expect(environment == "production" && id == "nope")
        #expect(flagError?.path == "flags/production/nope.json")
        #expect(flagError?.message == "flags/production/nope.json never existed on this branch")

        let environmentError = #expect(throws: HistoryError.self) {
            try history.entries(from: head, selection: .environment("qa"))
        }
        #expect(environmentError?.kind == .environmentNeverExisted(environment: "qa"))
        #expect(environmentError?.path == "flags/qa/")
        #expect(environmentError?.message == "environment 'qa' (flags/qa/) never existed on this branch")
    }

    @Test func testABranchWithAnInvalidCommitStillHasAHistory() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.commit("add a")
        try repo.write("flags/production/a.json", "{ broken")
        try repo.commit("break a")
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.commit("fix a")
        let repository = try repo.open()
        var history = FlagHistory(repository: repository)
        let entries = try history.entries(from: try repository.resolveCommit("HEAD"), selection: .flag(environment: "production", id: "a"))
        #expect(entries.map(\.subject) == ["fix a", "break a", "add a"])
        #expect(entries.map(\.change) == [.changed, .changed, .added])
        #expect(throws: SnapshotError.self) {
            try SnapshotLoader().load(commit: try repository.resolveCommit("HEAD~1"), from: repository)
        }
    }
}
