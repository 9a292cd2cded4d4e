import HalyardGit
import Testing

@testable import HalyardSync

struct ChangeSetTests {
    let loader = SnapshotLoader()

    /// Commits `before`, then `after` (path → contents; nil deletes), and returns the change set between them.
    func changes(before: [String: String], after: [String: String?]) throws -> ChangeSet {
        let repo = try TestRepository()
        defer { repo.remove() }
        for (path, text) in before { try repo.write(path, text) }
        let first = try repo.commit("before")
        for (path, text) in after {
            if let text { try repo.write(path, text) } else { try repo.delete(path) }
        }
        let second = try repo.commit("after")
        let repository = try repo.open()
        let old = try loader.load(commit: first, from: repository)
        let new = try loader.load(commit: second, from: repository, after: old)
        return ChangeSet.between(old, new)
    }

    @Test func testReformatKeyReorderAndV02RewriteAreNoChange() throws {
        let set = try changes(
            before: ["flags/production/a.json": FlagText.simple(), "flags/production/b.json": FlagText.simple()],
            after: ["flags/production/a.json": FlagText.simpleReformatted, "flags/production/b.json": FlagText.simpleV02]
        )
        #expect(set.environments.isEmpty)
        #expect(!set.isEffective)
    }

    @Test func testExplicitDefaultBaseStateIsNoChange() throws {
        let set = try changes(
            before: ["flags/production/a.json": FlagText.simple()],
            after: ["flags/production/a.json": FlagText.simple(baseState: false)]
        )
        #expect(set.environments.isEmpty)
    }

    @Test func testMetadataOnlyIsNotEffective() throws {
        let set = try changes(
            before: ["flags/production/a.json": FlagText.simple()],
            after: ["flags/production/a.json": FlagText.simple(name: "Renamed")]
        )
        #expect(set.environments["production"]?.metadataChanged == ["a"])
        #expect(set.effectivelyChangedEnvironments.isEmpty)
        #expect(set.environmentChanges(commit: "c", previousCommit: "p").isEmpty)
    }

    @Test func testAddRemoveChangeAndRenameAcrossEnvironments() throws {
        let set = try changes(
            before: [
                "flags/production/a.json": FlagText.simple(),
                "flags/production/b.json": FlagText.simple(),
                "flags/staging/moved.json": FlagText.simple(),
            ],
            after: [
                "flags/production/a.json": FlagText.simple(active: false),
                "flags/production/b.json": nil,
                "flags/production/c.json": FlagText.simple(),
                "flags/staging/moved.json": nil,
                "flags/development/moved.json": FlagText.simple(),
            ]
        )
        let production = try #require(set.environments["production"])
        #expect(production.added == ["c"])
        #expect(production.removed == ["b"])
        #expect(production.changed == ["a"])
        #expect(set.environments["staging"]?.removed == ["moved"])
        #expect(set.environments["development"]?.added == ["moved"])
        #expect(set.effectivelyChangedEnvironments == ["development", "production", "staging"])
        let outbox = set.environmentChanges(commit: "new", previousCommit: "old")
        let productionChange = try #require(outbox.first { $0.environment == "production" })
        #expect(productionChange.added == ["c"])
        #expect(productionChange.removed == ["b"])
        #expect(productionChange.changed == ["a"])
        #expect(productionChange.previousCommit == "old")
    }

    @Test func testATypedFlagsVariantsAndDefaultVariantAreItsTargeting() throws {
        func typed(_ variants: String, default defaultVariant: String = "a") -> String {
            #"{"active": true, "variants": \#(variants), "defaultVariant": "\#(defaultVariant)", "rules": []}"#
        }
        let set = try changes(
            before: [
                "flags/production/value.json": typed(#"{"a": "x", "b": "y"}"#),
                "flags/production/default.json": typed(#"{"a": "x", "b": "y"}"#),
                "flags/production/order.json": typed(#"{"a": "x", "b": "y"}"#),
            ],
            after: [
                "flags/production/value.json": typed(#"{"a": "x", "b": "z"}"#),
                "flags/production/default.json": typed(#"{"a": "x", "b": "y"}"#, default: "b"),
                "flags/production/order.json": typed(#"{"b": "y", "a": "x"}"#),
            ]
        )
        let production = try #require(set.environments["production"])
        #expect(production.changed == ["default", "value"])
        // The outbox counts a change by its transitions' fingerprints: a typed change must not look empty there.
        let outbox = set.environmentChanges(commit: "new", previousCommit: "old")
        #expect(outbox.first { $0.environment == "production" }?.changed == ["default", "value"])
    }

    @Test func testAChangeOutsideTheFlagsDirectoryIsNoChange() throws {
        let set = try changes(
            before: ["flags/production/a.json": FlagText.simple(), "docs/x.md": "one"],
            after: ["docs/x.md": "two", "flags/production/notes.txt": "ignored"]
        )
        #expect(set.environments.isEmpty)
    }

    @Test func testChangedWinsOverMetadata() throws {
        let set = try changes(
            before: ["flags/production/a.json": FlagText.simple()],
            after: ["flags/production/a.json": FlagText.simple(active: false, name: "Renamed")]
        )
        #expect(
            set.environments["production"]
                == EnvironmentChangeSet(
                    changed: ["a"],
                    transitions: set.environments["production"]!.transitions
                )
        )
    }
}
