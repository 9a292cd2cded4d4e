import Crypto
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

    /// A snapshot keeps no record per flag file, only the files that are not flags and the warnings: an incremental
    /// load finds a changed flag file through its environment. Over commits that add, change, delete and rename flag
    /// files, ignored files and files with warnings, each incremental load equals a full load of the same commit:
    /// flags and their paths, ignored files, warnings, and the file count that the limits check.
    @Test func testIncrementalLoadsTrackEveryKindOfFileLikeAFullLoad() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        let limited = SnapshotLoader(flagsDirectory: "flags", limits: RepositoryLimits(files: 6))
        let repository = try repo.open()
        var previous: Snapshot?
        func check(_ step: String) throws {
            let commit = try repo.commit(step)
            let full = try limited.load(commit: commit, from: repository)
            let incremental = try previous.map { try limited.load(commit: commit, from: repository, after: $0) } ?? full
            #expect(incremental.environmentNames == full.environmentNames, "\(step)")
            for name in full.environmentNames {
                #expect(incremental.environments[name]?.digest == full.environments[name]?.digest, "\(step): \(name)")
                let paths = { (snapshot: Snapshot) in snapshot.environments[name]?.sortedIDs.compactMap { snapshot.environments[name]?.flags[$0]?.file } }
                #expect(paths(incremental) == paths(full), "\(step): \(name)")
            }
            #expect(incremental.files.ignored == full.files.ignored, "\(step)")
            #expect(incremental.warnings == full.warnings, "\(step)")
            previous = incremental
        }
        try repo.write("flags/production/a.json", FlagText.simple())
        try repo.write("flags/production/old.json", FlagText.simpleV02)
        try repo.write("flags/README.md", "not a flag")
        try check("start")
        #expect(previous?.warnings.map(\.file).contains("flags/production/old.json") == true)

        try repo.write("flags/staging/a.json", FlagText.simple(active: false))
        try repo.write("flags/staging/notes.txt", "not a flag either")
        try repo.delete("flags/README.md")
        try check("an environment, and an ignored file moved")

        try repo.write("flags/production/old.json", FlagText.simple())
        try repo.write("flags/staging/b.json", FlagText.simpleV02)
        try check("a warning fixed, another one made")
        #expect(previous?.warnings.map(\.file) == ["flags/staging/b.json"])

        try repo.delete("flags/production/a.json")
        try repo.write("flags/production/renamed.json", FlagText.simple())
        try repo.delete("flags/staging/b.json")
        try check("a rename, a file with a warning deleted")
        #expect(previous?.warnings.isEmpty == true)
        #expect(previous?.flagCount == 3)

        // Six files are the limit: three flags, one ignored file, and two more of either kind are one too many.
        try repo.write("flags/staging/c.json", FlagText.simple())
        try repo.write("flags/production/more.md", "one file too many")
        try repo.write("flags/production/more.json", FlagText.simple())
        let over = try repo.commit("seven files")
        let fullError = try #require(throws: SnapshotError.self) { try limited.load(commit: over, from: repository) }
        let incrementalError = try #require(throws: SnapshotError.self) { try limited.load(commit: over, from: repository, after: previous!) }
        #expect(incrementalError.diagnostics == fullError.diagnostics)
        #expect(fullError.errors.map(\.message) == ["the flags directory holds 7 files; at most 6 are allowed"])

        try repo.delete("flags/production/more.md")
        try check("six files again")
        #expect(previous?.flagCount == 5)
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

    /// The same file in several environments is decoded once in a load from git; what is loaded (paths, flags,
    /// digests) and what is reported (each file's own errors) is exactly what decoding each file gives.
    @Test func testIdenticalFilesInSeveralEnvironmentsLoadAsIfReadOneByOne() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        for environment in ["development", "production", "staging"] {
            for index in 0..<300 {
                try repo.write("flags/\(environment)/f\(index).json", FlagText.simple(active: index % 2 == 0, customer: "c\(index)"))
            }
            // The same bytes under another flag id: another flag.
            try repo.write("flags/\(environment)/copy-of-f1.json", FlagText.simple(active: false, customer: "c1"))
        }
        try repo.write("flags/staging/f7.json", FlagText.simple(customer: "staging only"))
        let good = try repo.commit("the same flags everywhere")
        let repository = try repo.open()
        let shared = try loader.load(commit: good, from: repository)
        let oneByOne = try loader.loadWorkingTree(at: repo.path)
        #expect(shared.flagCount == 3 * 301)
        for name in oneByOne.environmentNames {
            #expect(shared.environments[name]?.digest == oneByOne.environments[name]?.digest, "environment \(name)")
            #expect(shared.environments[name]?.flags["f3"]?.file == "flags/\(name)/f3.json")
            #expect(shared.environments[name]?.flags["copy-of-f1"]?.flag.id == "copy-of-f1")
        }
        #expect(shared.environments["staging"]?.flags["f7"]?.fingerprint != shared.environments["production"]?.flags["f7"]?.fingerprint)
        #expect(shared.environments["staging"]?.flags["f8"]?.fingerprint == shared.environments["production"]?.flags["f8"]?.fingerprint)

        // The same invalid file in every environment: an error for each file, naming it.
        for environment in ["development", "production", "staging"] {
            try repo.write("flags/\(environment)/f5.json", "{\"active\": \"yes\", \"rules\": []}")
        }
        let bad = try repo.commit("the same mistake everywhere")
        let sharedError = try #require(throws: SnapshotError.self) { try loader.load(commit: bad, from: repository) }
        let oneByOneError = try #require(throws: SnapshotError.self) { try loader.loadWorkingTree(at: repo.path) }
        #expect(sharedError.diagnostics == oneByOneError.diagnostics)
        #expect(Set(sharedError.errors.map(\.file)) == ["flags/development/f5.json", "flags/production/f5.json", "flags/staging/f5.json"])
    }

    /// The fingerprints are, by definition, the hashes of the canonical text of the whole normalised flag and of the
    /// object of its targeting members; the environment digest sums each flag's SHA-256 blocks of (id, fingerprint).
    /// Computing them faster must not change a single bit: ETags and change detection across restarts depend on them.
    @Test func testFingerprintsAndDigestContributionsFollowTheirDefinitions() throws {
        let texts = [
            FlagText.simple(),
            FlagText.simple(active: false, baseState: true, customer: "Ünïcode/ß", name: "Alpha"),
            ##"{"active": true, "defaultVariant": "blue", "variants": {"blue": {"hex": "#00f"}, "red": {"hex": "#f00", "w": 1.5e3}}, "rules": [{"when": [{"type": "filter", "attribute": "plan", "operator": "==", "comparator": "pro"}], "serve": "red"}], "metadata": {"owner": "web", "n": [1, 2]}}"##,
        ]
        for (index, text) in texts.enumerated() {
            let decoded = FlagDecoder.decode(Array(text.utf8), id: "f\(index)", file: "flags/production/f\(index).json")
            let flag = try #require(decoded.flag, "\(decoded.diagnostics)")
            let loaded = LoadedFlag(flag: flag, file: "flags/production/f\(index).json", blobID: nil)
            let normalized = flag.normalizedJSON
            #expect(loaded.fingerprint == Fingerprint.of(normalized.jsonText))
            var targeting: [String: JSONValue] = [:]
            if case .object(let fields) = normalized {
                for key in ["active", "baseState", "variants", "defaultVariant", "rules"] { targeting[key] = fields[key] }
            }
            #expect(loaded.targetingFingerprint == Fingerprint.of(JSONValue.object(targeting).jsonText))

            var sum = DigestSum.zero
            sum.add(loaded.digestContribution)
            var expected: [UInt8] = []
            let pair = Array(flag.id.utf8) + [0] + Array(loaded.fingerprint.utf8)
            for block in 0..<8 {
                var hasher = SHA256()
                hasher.update(data: [UInt8(block)] + pair)
                expected += Array(hasher.finalize())
            }
            #expect(sum.hex == SHA256.hash(data: expected).map { String(format: "%02x", $0) }.joined())
        }
    }
}
