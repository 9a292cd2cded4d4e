import Foundation
import HalyardGit
import HalyardRules
import Testing

@testable import HalyardSync

/// DESIGN §13: the repository's aggregate limits, and SHA-256 digests.
struct RepositoryLimitsTests {
    @Test func testTheDefaultLimits() {
        #expect(RepositoryLimits.standard == RepositoryLimits(files: 100_000, environments: 1_000, fileSize: 1_048_576))
        #expect(SnapshotLoader().limits == .standard)
        #expect(FlagPath.maximumFileSize == RepositoryLimits.standard.fileSize)
    }

    @Test func testAtMostOneThousandEnvironments() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        for index in 0..<1_000 {
            try repo.write("flags/env\(index)/a.json", FlagText.simple())
        }
        let full = try repo.commit("a thousand environments")
        let loader = SnapshotLoader()
        let repository = try repo.open()
        let served = try loader.load(commit: full, from: repository)
        #expect(served.environments.count == 1_000)

        try repo.write("flags/one-too-many/a.json", FlagText.simple())
        let tooMany = try repo.commit("one more environment")
        let loads: [() throws -> Void] = [
            { _ = try loader.load(commit: tooMany, from: repository) },
            { _ = try loader.load(commit: tooMany, from: repository, after: served) },
            { _ = try loader.loadWorkingTree(at: repo.path) },
        ]
        for load in loads {
            let error = try #require(throws: SnapshotError.self) { try load() }
            #expect(error.errors.map(\.file) == ["flags"])
            #expect(error.errors.first?.message == "the flags directory holds 1001 environments; at most 1000 are allowed")
        }

        // Replacing an environment by another keeps the count.
        try repo.git("rm", "-q", "-r", "flags/env0")
        let replaced = try repo.commit("replace an environment")
        #expect(try loader.load(commit: replaced, from: repository, after: served).environments.count == 1_000)
    }

    @Test func testAtMostSoManyFilesUnderTheFlagsDirectory() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        for index in 0..<9 {
            try repo.write("flags/production/f\(index).json", FlagText.simple())
        }
        try repo.write("flags/README.md", "ignored files count too")
        let ten = try repo.commit("ten files")
        let loader = SnapshotLoader(limits: RepositoryLimits(files: 10))
        let repository = try repo.open()
        let served = try loader.load(commit: ten, from: repository)
        #expect(served.flagCount == 9)

        try repo.write("flags/staging/notes.txt", "one file too many")
        let eleven = try repo.commit("eleven files")
        let loads: [() throws -> Void] = [
            { _ = try loader.load(commit: eleven, from: repository) },
            { _ = try loader.load(commit: eleven, from: repository, after: served) },
            { _ = try loader.loadWorkingTree(at: repo.path) },
        ]
        for load in loads {
            let error = try #require(throws: SnapshotError.self) { try load() }
            #expect(error.errors.map(\.file) == ["flags"])
            #expect(error.errors.first?.message == "the flags directory holds 11 files; at most 10 are allowed")
        }
    }

    @Test func testTheFileSizeLimitIsOneCheck() throws {
        let repo = try TestRepository()
        defer { repo.remove() }
        let text = FlagText.simple()
        try repo.write("flags/production/fits.json", text)
        try repo.write("flags/production/large.json", text + " ")
        let commit = try repo.commit("one byte over")
        let limits = RepositoryLimits(fileSize: text.utf8.count)
        let error = try #require(throws: SnapshotError.self) {
            try SnapshotLoader(limits: limits).load(commit: commit, from: try repo.open())
        }
        #expect(error.errors.count == 1)
        #expect(error.errors.first == limits.fileSizeError(text.utf8.count + 1, file: "flags/production/large.json"))
        #expect(
            error.errors.first?.message
                == "the file is \(text.utf8.count + 1) bytes; a flag file may be at most \(text.utf8.count) bytes (\(text.utf8.count) bytes)"
        )
        let decoded = FlagDecoder.decode(Array(repeating: UInt8(ascii: " "), count: 1_048_577), id: "x", file: "x.json")
        #expect(decoded.diagnostics.count == 1)
        #expect(decoded.diagnostics.first == RepositoryLimits.standard.fileSizeError(1_048_577, file: "x.json"))
    }

    @Test func testDigestsAndFingerprintsAreSHA256AndStayIncremental() throws {
        // sha256sum of the bytes "abc" and a zero byte.
        #expect(Fingerprint.of("abc") == "dc1114cd074914bd872cc1f9a23ec910ea2203bc79779ab2e17da25782a624fc")
        let repo = try TestRepository()
        defer { repo.remove() }
        for index in 0..<50 {
            try repo.write("flags/production/f\(index).json", FlagText.simple())
        }
        let first = try repo.commit("first")
        try repo.write("flags/production/f7.json", FlagText.simple(active: false))
        try repo.delete("flags/production/f8.json")
        try repo.write("flags/production/new.json", FlagText.simple())
        let second = try repo.commit("second")
        let loader = SnapshotLoader()
        let repository = try repo.open()
        let before = try loader.load(commit: first, from: repository)
        let incremental = try loader.load(commit: second, from: repository, after: before)
        let full = try loader.load(commit: second, from: repository)
        let digest = try #require(incremental.environments["production"]?.digest)
        #expect(digest.count == 64 && digest.allSatisfy(\.isHexDigit))
        #expect(digest == full.environments["production"]?.digest)
        #expect(digest != before.environments["production"]?.digest)
        // Reverting the change gives back the first digest.
        let reverted = try loader.load(commit: first, from: repository, after: full)
        #expect(reverted.environments["production"]?.digest == before.environments["production"]?.digest)
        #expect(full.environments["production"]?.flags["f7"]?.fingerprint.count == 64)
    }
}
