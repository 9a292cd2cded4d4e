import Foundation
import HalyardGit
import Testing

struct TreeTests {
    /// A gitlink target; git does not check that a submodule's commit exists.
    let submoduleCommit = "1234567890abcdef1234567890abcdef12345678"

    /// A repository "repo" with one commit holding every kind of entry under flags/, and files outside it.
    func makeRepository(in sandbox: GitSandbox) throws -> ObjectID {
        try sandbox.initRepository("repo")
        try sandbox.write("{\"active\": true}\n", to: "flags/production/a.json", in: "repo")
        try sandbox.write("#!/bin/sh\necho hi\n", to: "flags/production/run.sh", in: "repo")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sandbox.path("repo/flags/production/run.sh"))
        try sandbox.symlink("flags/production/link.json", to: "a.json", in: "repo")
        try sandbox.write("{}\n", to: "flags/production/deep/x/y.json", in: "repo")
        try sandbox.write("{\"active\": false}\n", to: "flags/staging/b.json", in: "repo")
        try sandbox.write("Flags live here.\n", to: "flags/README.md", in: "repo")
        try sandbox.write("# Repo\n", to: "README.md", in: "repo")
        try sandbox.write("{}\n", to: "other/c.json", in: "repo")
        try sandbox.git("add", "-A", in: "repo")
        try sandbox.git("update-index", "--add", "--cacheinfo", "160000,\(submoduleCommit),flags/production/sub", in: "repo")
        return try sandbox.commit("Everything", in: "repo", stageAll: false)
    }

    /// `git ls-tree -r` of `revision` under `path`, as tree entries.
    func gitListing(_ revision: String, _ path: String, in sandbox: GitSandbox) throws -> [TreeEntry] {
        let kinds: [String: TreeEntryKind] = ["100644": .blob, "100755": .executable, "120000": .symlink, "160000": .submodule]
        return try sandbox.git("ls-tree", "-r", revision, "--", path, in: "repo").split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", maxSplits: 1)
            let meta = fields[0].split(separator: " ")
            return TreeEntry(path: String(fields[1]), id: try #require(ObjectID(hex: String(meta[2]))), kind: try #require(kinds[String(meta[0])]))
        }
    }

    @Test func entriesUnderFlags() throws {
        try GitSandbox.with { sandbox in
            let commit = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let entries = try repository.entries(inCommit: commit, under: "flags")

            #expect(entries == (try gitListing("HEAD", "flags", in: sandbox)))
            #expect(
                entries.map(\.path) == [
                    "flags/README.md", "flags/production/a.json", "flags/production/deep/x/y.json", "flags/production/link.json",
                    "flags/production/run.sh", "flags/production/sub", "flags/staging/b.json",
                ]
            )
            let kinds = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.kind) })
            #expect(kinds["flags/production/a.json"] == .blob)
            #expect(kinds["flags/production/run.sh"] == .executable)
            #expect(kinds["flags/production/link.json"] == .symlink)
            #expect(kinds["flags/production/sub"] == .submodule)
            #expect(entries.first { $0.kind == .submodule }?.id.hex == submoduleCommit)

            #expect(try repository.entries(inCommit: commit, under: "/flags/") == entries)
            #expect(try repository.entries(inCommit: commit, under: "flags/staging").map(\.path) == ["flags/staging/b.json"])
            #expect(try repository.entries(inCommit: commit, under: "").count == entries.count + 2)
            #expect(try repository.entries(inCommit: commit, under: "missing").isEmpty)
            #expect(try repository.entries(inCommit: commit, under: "README.md").isEmpty)
        }
    }

    @Test func blobContentAndSize() throws {
        try GitSandbox.with { sandbox in
            let commit = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let entries = try repository.entries(inCommit: commit, under: "flags/production")
            let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })

            let json = try #require(byPath["flags/production/a.json"])
            #expect(try repository.blob(json.id) == Array("{\"active\": true}\n".utf8))
            #expect(try repository.blobSize(json.id) == 17)
            let link = try #require(byPath["flags/production/link.json"])
            #expect(try repository.blob(link.id) == Array("a.json".utf8))
            #expect(try repository.blobSize(link.id) == 6)

            let empty = try sandbox.revParse("HEAD:flags/production/deep/x/y.json", in: "repo")
            #expect(try repository.blob(empty).count == 3)

            let tree = try sandbox.revParse("HEAD:flags", in: "repo")
            let error = try #require(throws: GitError.self) { try repository.blobSize(tree) }
            #expect(error.description.contains("is not a blob"))
            #expect(throws: GitError.self) { try repository.blob(tree) }
            #expect(throws: GitError.self) { try repository.blob(commit) }
        }
    }

    @Test func entryIDAtPath() throws {
        try GitSandbox.with { sandbox in
            let commit = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            #expect(
                try repository.entryID(atPath: "flags/production/a.json", inCommit: commit)
                    == (try sandbox.revParse("HEAD:flags/production/a.json", in: "repo"))
            )
            #expect(try repository.entryID(atPath: "flags", inCommit: commit) == (try sandbox.revParse("HEAD:flags", in: "repo")))
            #expect(try repository.entryID(atPath: "flags/production/sub", inCommit: commit)?.hex == submoduleCommit)
            #expect(try repository.entryID(atPath: "flags/production/nope.json", inCommit: commit) == nil)
            #expect(try repository.entryID(atPath: "flags/production/a.json/x", inCommit: commit) == nil)
            #expect(try repository.entryID(atPath: "nope/a.json", inCommit: commit) == nil)
        }
    }
}
