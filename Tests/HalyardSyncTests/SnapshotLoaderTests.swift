import Foundation
import HalyardGit
import HalyardRules
import Testing

@testable import HalyardSync

struct SnapshotLoaderTests {
    let loader = SnapshotLoader(flagsDirectory: "flags")

    @Test func testLoadsEveryEnvironmentAtACommit() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.write("flags/staging/a.json", FlagText.simple(customer: "Pixar"))
        try repo.write("flags/staging/b.json", FlagText.simple(active: false))
        try repo.write("flags/README.md", "ignored")
        try repo.write("src/app.swift", "ignored too")
        let commit = try repo.commit("first")
        let snapshot = try loader.load(commit: commit, from: try repo.open())
        #expect(snapshot.commit == commit.hex)
        #expect(snapshot.environmentNames == ["production", "staging"])
        #expect(snapshot.environments["staging"]?.sortedIDs == ["a", "b"])
        #expect(snapshot.flagCount == 3)
        let flag = try #require(snapshot.environments["production"]?.flag("a"))
        #expect(flag.evaluate(EvaluationContext(["customer": .string("disney")])).value == true)
    }

    @Test func testIncrementalLoadMatchesAFullLoad() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        for index in 0..<20 {
            try repo.write("flags/production/f\(index).json", FlagText.simple())
            try repo.write("flags/staging/f\(index).json", FlagText.simple())
        }
        let first = try repo.commit("first")
        try repo.write("flags/production/f3.json", FlagText.simple(active: false))
        try repo.delete("flags/staging/f4.json")
        try repo.write("flags/development/new.json", FlagText.simple())
        let second = try repo.commit("second")
        let repository = try repo.open()
        let previous = try loader.load(commit: first, from: repository)
        let incremental = try loader.load(commit: second, from: repository, after: previous)
        let full = try loader.load(commit: second, from: repository)
        #expect(incremental.commit == second.hex)
        for name in full.environmentNames {
            #expect(incremental.environments[name]?.digest == full.environments[name]?.digest, "environment \(name)")
        }
        #expect(incremental.environmentNames == full.environmentNames)
        #expect(incremental.environments["staging"]?.flags["f4"] == nil)
        #expect(incremental.environments["production"]?.flag("f3")?.active == false)
    }

    @Test func testAnInvalidFileRejectsTheWholeCommitWithEveryError() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/good.json", FlagText.simple())
        try repo.write(
            "flags/production/bad.json",
            "{\"active\": true, \"rules\": [[{\"type\": \"filter\", \"attribute\": \"a\", \"operator\": \"=\", \"comparator\": 1}]]}"
        )
        try repo.write("flags/production/broken.json", "{ not json")
        try repo.write("flags/loose.json", FlagText.simple())
        try repo.write("flags/production/deeper/x.json", FlagText.simple())
        let commit = try repo.commit("bad")
        let error = try #require(throws: SnapshotError.self) { try loader.load(commit: commit, from: try repo.open()) }
        #expect(error.isInvalidFlagSet)
        let files = Set(error.errors.map(\.file))
        #expect(
            files == ["flags/production/bad.json", "flags/production/broken.json", "flags/loose.json", "flags/production/deeper/x.json"]
        )
        #expect(error.errors.contains { $0.file == "flags/production/bad.json" && $0.pointer == "/rules/0/0/operator" })
    }

    @Test func testIncrementalLoadRejectsAnInvalidChange() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/a.json", FlagText.simple())
        let first = try repo.commit("first")
        try repo.write("flags/production/a.json", "{\"active\": \"yes\", \"rules\": []}")
        let second = try repo.commit("second")
        let repository = try repo.open()
        let previous = try loader.load(commit: first, from: repository)
        let error = try #require(throws: SnapshotError.self) { try loader.load(commit: second, from: repository, after: previous) }
        #expect(error.errors.first?.pointer == "/active")
    }

    @Test func testSymlinksSubmodulesAndOversizedFilesAreErrors() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.write(
            "flags/production/huge.json",
            "{\"active\": true, \"rules\": [], \"description\": \"" + String(repeating: "x", count: 1_100_000) + "\"}"
        )
        try FileManager.default.createSymbolicLink(atPath: repo.path + "/flags/production/link.json", withDestinationPath: "a.json")
        try repo.git("add", "-A")
        let head = try repo.commit("first")
        try repo.git("update-index", "--add", "--cacheinfo", "160000,\(head.hex),flags/production/sub")
        try repo.git("commit", "-q", "-m", "submodule")
        let commit = try repo.open().resolveCommit("HEAD")
        let error = try #require(throws: SnapshotError.self) { try loader.load(commit: commit, from: try repo.open()) }
        let messages = Dictionary(uniqueKeysWithValues: error.errors.map { ($0.file, $0.message) })
        #expect(messages["flags/production/link.json"]?.contains("symbolic link") == true)
        #expect(messages["flags/production/sub"]?.contains("submodule") == true)
        #expect(messages["flags/production/huge.json"]?.contains("1 MiB") == true)
    }

    @Test func testWorkingTreeLoadAndMissingDirectory() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("flags/production/a.json", FlagText.simple())
        let snapshot = try loader.loadWorkingTree(at: repo.path)
        #expect(snapshot.commit == nil)
        #expect(snapshot.flagCount == 1)
        let error = try #require(throws: SnapshotError.self) { try SnapshotLoader(flagsDirectory: "nope").loadWorkingTree(at: repo.path) }
        #expect(!error.isInvalidFlagSet)
        #expect(error.description.contains("no flags directory"))
    }

    @Test func testACommitWithoutTheFlagsDirectoryIsInvalid() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        try repo.write("README.md", "no flags")
        let commit = try repo.commit("first")
        let error = try #require(throws: SnapshotError.self) { try loader.load(commit: commit, from: try repo.open()) }
        #expect(error.errors.first?.message.contains("missing") == true)
    }

    /// A big flag set is read and decoded on several threads; the result and every error are the same as one by one
    /// (the working-tree load reads files one by one).
    @Test func testAParallelLoadMatchesAOneByOneLoad() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        for index in 0..<700 {
            try repo.write("flags/\(["production", "staging"][index % 2])/f\(index).json", FlagText.simple(active: index % 3 == 0, customer: "c\(index)"))
        }
        try repo.write("flags/production/README.md", "ignored")
        let good = try repo.commit("700 flags")
        let repository = try repo.open()
        let parallel = try loader.load(commit: good, from: repository)
        let oneByOne = try loader.loadWorkingTree(at: repo.path)
        #expect(parallel.flagCount == 700)
        #expect(parallel.environmentNames == oneByOne.environmentNames)
        for name in oneByOne.environmentNames {
            #expect(parallel.environments[name]?.digest == oneByOne.environments[name]?.digest)
            #expect(parallel.environments[name]?.sortedIDs == oneByOne.environments[name]?.sortedIDs)
        }

        // Errors spread over the set, among hundreds of good files.
        try repo.write("flags/production/f10.json", "{ not json")
        try repo.write("flags/staging/f301.json", "{\"active\": \"yes\", \"rules\": []}")
        try repo.write("flags/staging/f599.json", "{\"active\": true, \"rules\": [[{\"type\": \"nobody\"}]], \"extra\": 1}")
        try repo.write("flags/production/deeper/x.json", FlagText.simple())
        try repo.write("flags/production/f688.json", "{\"active\": true, \"rules\": [], \"description\": \"" + String(repeating: "x", count: 1_100_000) + "\"}")
        let bad = try repo.commit("errors")
        let parallelError = try #require(throws: SnapshotError.self) { try loader.load(commit: bad, from: repository) }
        let oneByOneError = try #require(throws: SnapshotError.self) { try loader.loadWorkingTree(at: repo.path) }
        #expect(parallelError.diagnostics.count >= 5)
        #expect(parallelError.diagnostics == oneByOneError.diagnostics)
    }
}
