import Foundation
import HalyardGit
import Testing

struct MirrorTests {
    /// A working repository "work" with two commits, pushed to the bare "upstream.git" (its remote "upstream").
    func makeUpstream(in sandbox: GitSandbox) throws -> [ObjectID] {
        try sandbox.initRepository("work")
        try sandbox.write("{\"active\": true}\n", to: "flags/production/a.json", in: "work")
        let first = try sandbox.commit("First", in: "work", time: 1_700_000_000)
        try sandbox.write("{\"active\": false}\n", to: "flags/production/a.json", in: "work")
        let second = try sandbox.commit("Second", in: "work", time: 1_700_000_100)
        try sandbox.git("clone", "-q", "--bare", sandbox.path("work"), sandbox.path("upstream.git"), in: "")
        try sandbox.git("remote", "add", "upstream", sandbox.path("upstream.git"), in: "work")
        return [first, second]
    }

    @Test(arguments: [false, true])
    func cloneMirrorAndFetch(useFileURL: Bool) throws {
        try GitSandbox.with { sandbox in
            let commits = try makeUpstream(in: sandbox)
            let url = useFileURL ? "file://" + sandbox.path("upstream.git") : sandbox.path("upstream.git")
            let mirror = try Repository.cloneMirror(from: url, to: sandbox.path("mirror/flags.git"), credentials: nil)

            #expect(mirror.isBare)
            #expect(!mirror.isEmpty)
            #expect(mirror.path == sandbox.path("mirror/flags.git"))
            #expect(try mirror.remoteURL("origin") == url)
            #expect(try mirror.remoteURL("nope") == nil)
            #expect(try mirror.defaultRemoteBranch() == "main")
            #expect(try mirror.referenceTarget("refs/heads/main") == commits[1])
            #expect(try mirror.resolveCommit("HEAD") == commits[1])
            #expect(try mirror.commit(commits[1]).subject == "Second")

            // A new commit upstream arrives with the next fetch.
            try sandbox.write("{\"active\": true}\n", to: "flags/staging/b.json", in: "work")
            let third = try sandbox.commit("Third", in: "work", time: 1_700_000_200)
            try sandbox.git("push", "-q", "upstream", "main", in: "work")
            let result = try mirror.fetch(remote: "origin", credentials: nil)
            #expect(result.receivedObjects > 0)
            #expect(result.receivedBytes > 0)
            #expect(try mirror.referenceTarget("refs/heads/main") == third)
            #expect(try mirror.diff(from: commits[1], to: third, under: "flags").map(\.path) == ["flags/staging/b.json"])

            let again = try mirror.fetch(remote: "origin", credentials: nil)
            #expect(again.receivedObjects == 0)
            #expect(try mirror.referenceTarget("refs/heads/main") == third)
        }
    }

    /// A mirror of a local repository starts with the source's own object files, linked or copied, as `git clone
    /// --local` does; it used to be sent a new pack that libgit2's local transport built with a delta search over the
    /// whole history (25 s of CPU for 30,000 flags and 1,000 commits). Loose or packed, every object file is there.
    @Test(arguments: [false, true])
    func aMirrorOfALocalRepositoryStartsWithItsObjectFiles(packed: Bool) throws {
        try GitSandbox.with { sandbox in
            let commits = try makeUpstream(in: sandbox)
            if packed { try sandbox.git("gc", "-q", in: "upstream.git") }
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("mirror.git"), credentials: nil)
            #expect(try mirror.referenceTarget("refs/heads/main") == commits[1])

            func objectFiles(_ repository: String) -> Set<String> {
                let objects = sandbox.path(repository) + "/objects"
                let names = FileManager.default.enumerator(atPath: objects)?.compactMap { $0 as? String } ?? []
                return Set(names.filter { name in
                    var isDirectory: ObjCBool = false
                    return !name.hasPrefix("info") && FileManager.default.fileExists(atPath: objects + "/" + name, isDirectory: &isDirectory)
                        && !isDirectory.boolValue
                })
            }
            let source = objectFiles("upstream.git")
            #expect(!source.isEmpty)
            #expect(source.contains { $0.hasPrefix("pack/") } == packed)
            #expect(objectFiles("mirror.git") == source)
        }
    }

    @Test func forcePushMovesTheBranchBackwardsAndSideways() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeUpstream(in: sandbox)
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("mirror.git"), credentials: nil)

            try sandbox.git("reset", "-q", "--hard", commits[0].hex, in: "work")
            try sandbox.git("push", "-q", "--force", "upstream", "main", in: "work")
            try mirror.fetch()
            #expect(try mirror.referenceTarget("refs/heads/main") == commits[0])

            try sandbox.write("{\"rewritten\": true}\n", to: "flags/production/a.json", in: "work")
            let sideways = try sandbox.commit("Rewritten", in: "work", time: 1_700_000_300)
            try sandbox.git("push", "-q", "--force", "upstream", "main", in: "work")
            try mirror.fetch()
            #expect(try mirror.referenceTarget("refs/heads/main") == sideways)
            #expect(try mirror.firstParentHistory(from: sideways).map(\.id) == [sideways, commits[0]])
        }
    }

    @Test func prunesDeletedBranchesAndFollowsTheRemoteHEAD() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeUpstream(in: sandbox)
            try sandbox.git("push", "-q", "upstream", "\(commits[0].hex):refs/heads/release", in: "work")
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("mirror.git"), credentials: nil)
            #expect(try mirror.referenceTarget("refs/heads/release") == commits[0])

            try sandbox.git("symbolic-ref", "HEAD", "refs/heads/release", in: "upstream.git")
            try mirror.fetch()
            #expect(try mirror.defaultRemoteBranch() == "release")

            try sandbox.git("symbolic-ref", "HEAD", "refs/heads/main", in: "upstream.git")
            try sandbox.git("push", "-q", "upstream", "--delete", "release", in: "work")
            try mirror.fetch()
            #expect(try mirror.referenceTarget("refs/heads/release") == nil)
            #expect(try mirror.defaultRemoteBranch() == "main")
            #expect(try mirror.referenceTarget("refs/heads/main") == commits[1])
        }
    }

    @Test func emptyUpstream() throws {
        try GitSandbox.with { sandbox in
            try sandbox.initRepository("upstream.git", bare: true)
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("mirror.git"), credentials: nil)
            #expect(mirror.isEmpty)
            #expect(try mirror.referenceTarget("refs/heads/main") == nil)

            try sandbox.initRepository("work")
            let first = try sandbox.commit("First", in: "work")
            try sandbox.git("push", "-q", sandbox.path("upstream.git"), "main", in: "work")
            try mirror.fetch()
            #expect(!mirror.isEmpty)
            #expect(try mirror.referenceTarget("refs/heads/main") == first)
            #expect(try mirror.defaultRemoteBranch() == "main")
        }
    }

    @Test func fetchFromARemoteThatNoLongerExists() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeUpstream(in: sandbox)
            let upstream = sandbox.path("upstream.git")
            let mirror = try Repository.cloneMirror(from: upstream, to: sandbox.path("mirror.git"), credentials: nil)
            try FileManager.default.removeItem(atPath: upstream)

            let error = try #require(throws: GitError.self) { try mirror.fetch() }
            #expect(error.description.hasPrefix("cannot fetch from 'origin' (\(upstream)) into \(sandbox.path("mirror.git")): "))
            #expect(error.message.hasPrefix("the remote repository '\(upstream)' does not exist ("))
            #expect(try mirror.referenceTarget("refs/heads/main") == commits[1])

            let unknown = try #require(throws: GitError.self) { try mirror.fetch(remote: "nope") }
            #expect(unknown.isNotFound)
        }
    }

    @Test func cloneFailuresLeaveNothingBehind() throws {
        try GitSandbox.with { sandbox in
            _ = try makeUpstream(in: sandbox)
            let target = sandbox.path("mirror.git")
            let error = try #require(throws: GitError.self) {
                try Repository.cloneMirror(from: sandbox.path("missing.git"), to: target, credentials: .token("secret"))
            }
            #expect(error.description.hasPrefix("cannot clone \(sandbox.path("missing.git")) into \(target): the remote repository"))
            #expect(!FileManager.default.fileExists(atPath: target))

            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            #expect(throws: GitError.self) { try Repository.cloneMirror(from: sandbox.path("missing.git"), to: target, credentials: nil) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)

            let notEmpty = try #require(throws: GitError.self) {
                try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: sandbox.path("work"), credentials: nil)
            }
            #expect(notEmpty.message == "'\(sandbox.path("work"))' exists and is not an empty directory")
            #expect(FileManager.default.fileExists(atPath: sandbox.path("work/flags/production/a.json")))

            // An existing empty directory is fine.
            let mirror = try Repository.cloneMirror(from: sandbox.path("upstream.git"), to: target, credentials: nil)
            #expect(try mirror.defaultRemoteBranch() == "main")
        }
    }
}
