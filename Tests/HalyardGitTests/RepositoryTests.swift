import Foundation
import HalyardGit
import HalyardTesting
import Testing

struct RepositoryTests {
    /// A repository "repo" with three commits on main, an annotated tag v1 on the first, a lightweight tag on the
    /// second, and a branch "feature" at the second. Returns the commits, oldest first.
    func makeRepository(in sandbox: GitSandbox) throws -> [ObjectID] {
        try sandbox.initRepository("repo")
        try sandbox.write("{\"active\": true}\n", to: "flags/production/a.json", in: "repo")
        let first = try sandbox.commit("Add a", in: "repo", time: 1_700_000_000)
        try sandbox.git("tag", "-a", "v1", "-m", "Version 1", in: "repo")
        try sandbox.write("{\"active\": false}\n", to: "flags/production/a.json", in: "repo")
        let second = try sandbox.commit("Switch a off", in: "repo", time: 1_700_000_100)
        try sandbox.git("tag", "light", in: "repo")
        try sandbox.git("branch", "feature", in: "repo")
        try sandbox.write("# Flags\n", to: "README.md", in: "repo")
        let third = try sandbox.commit("Add a README", in: "repo", time: 1_700_000_200)
        return [first, second, third]
    }

    // MARK: - Opening

    @Test func openAndDiscoverFromSubdirectory() throws {
        try GitSandbox.with { sandbox in
            _ = try makeRepository(in: sandbox)
            let root = sandbox.path("repo")

            let opened = try Repository.open(at: root)
            #expect(opened.workingDirectory == root)
            #expect(opened.path == root + "/.git")
            #expect(!opened.isBare)
            #expect(!opened.isEmpty)

            let discovered = try Repository.discover(from: sandbox.path("repo/flags/production"))
            #expect(discovered.workingDirectory == root)
            #expect(try discovered.resolveCommit("HEAD") == opened.resolveCommit("HEAD"))

            // open does not search parents
            #expect(throws: GitError.self) { try Repository.open(at: sandbox.path("repo/flags")) }
        }
    }

    @Test func notARepository() throws {
        try GitSandbox.with { sandbox in
            let error = try #require(throws: GitError.self) { try Repository.open(at: sandbox.root) }
            #expect(error.isNotFound)
            #expect(error.description == "cannot open repository at \(sandbox.root): could not find repository from '\(sandbox.root)'")

            let missing = sandbox.path("missing")
            let discoverError = try #require(throws: GitError.self) { try Repository.discover(from: missing) }
            #expect(discoverError.description.hasPrefix("cannot find a repository at or above \(missing): "))
        }
    }

    @Test func emptyRepository() throws {
        try GitSandbox.with { sandbox in
            try sandbox.initRepository("empty")
            let repository = try Repository.open(at: sandbox.path("empty"))
            #expect(repository.isEmpty)
            #expect(try repository.currentBranch() == "main")
            #expect(try repository.referenceTarget("HEAD") == nil)
            let error = try #require(throws: GitError.self) { try repository.resolveCommit("HEAD") }
            #expect(error.isNotFound)
            #expect(error.description.hasPrefix("cannot resolve revision 'HEAD' in \(sandbox.path("empty")): "))
            #expect(error.description.hasSuffix("(the repository has no commits yet)"))
        }
    }

    @Test func createRepository() throws {
        try GitSandbox.with { sandbox in
            let bare = try Repository.create(at: sandbox.path("new/bare.git"), bare: true)
            #expect(bare.isBare)
            #expect(bare.isEmpty)
            #expect(bare.workingDirectory == nil)
            #expect(bare.path == sandbox.path("new/bare.git"))
            #expect(try bare.currentBranch() != nil)

            let plain = try Repository.create(at: sandbox.path("plain"), bare: false)
            #expect(!plain.isBare)
            #expect(plain.workingDirectory == sandbox.path("plain"))
            #expect(try sandbox.git("rev-parse", "--is-inside-work-tree", in: "plain") == "true")
        }
    }

    // MARK: - Revisions and references

    @Test func resolveRevisions() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))

            #expect(try repository.resolveCommit("HEAD") == commits[2])
            #expect(try repository.resolveCommit(commits[1].hex) == commits[1])
            #expect(try repository.resolveCommit(commits[1].shortHex) == commits[1])
            #expect(try repository.resolveCommit("main") == commits[2])
            #expect(try repository.resolveCommit("feature") == commits[1])
            #expect(try repository.resolveCommit("v1") == commits[0])  // annotated tag, peeled
            #expect(try repository.resolveCommit("light") == commits[1])
            #expect(try repository.resolveCommit("HEAD~2") == commits[0])
            #expect(try repository.resolveCommit("main^") == commits[1])
        }
    }

    @Test func unknownRevision() throws {
        try GitSandbox.with { sandbox in
            _ = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let error = try #require(throws: GitError.self) { try repository.resolveCommit("nope") }
            #expect(error.isNotFound)
            #expect(error.description == "cannot resolve revision 'nope' in \(sandbox.path("repo")): revspec 'nope' not found")

            let tooFar = try #require(throws: GitError.self) { try repository.resolveCommit("HEAD~5") }
            #expect(tooFar.isNotFound)
        }
    }

    @Test func remoteTrackingBranchOfAClone() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeRepository(in: sandbox)
            try sandbox.git("clone", "-q", sandbox.path("repo"), sandbox.path("clone"), in: "")
            let clone = try Repository.open(at: sandbox.path("clone"))
            #expect(try clone.resolveCommit("origin/main") == commits[2])
            #expect(try clone.resolveCommit("origin/feature") == commits[1])
            #expect(try clone.defaultRemoteBranch() == "main")
            #expect(try clone.remoteURL("origin") == sandbox.path("repo"))
        }
    }

    @Test func currentBranchAndReferences() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            #expect(try repository.currentBranch() == "main")
            #expect(try repository.defaultRemoteBranch() == nil)
            #expect(try repository.remoteURL("origin") == nil)
            #expect(try repository.referenceTarget("refs/heads/main") == commits[2])
            #expect(try repository.referenceTarget("HEAD") == commits[2])
            #expect(try repository.referenceTarget("refs/tags/v1") == commits[0])
            #expect(try repository.referenceTarget("refs/heads/nope") == nil)

            try sandbox.git("checkout", "-q", "--detach", "feature", in: "repo")
            #expect(try repository.currentBranch() == nil)
            #expect(try repository.referenceTarget("HEAD") == commits[1])

            try sandbox.git("checkout", "-q", "--orphan", "fresh", in: "repo")
            #expect(try repository.currentBranch() == "fresh")
            #expect(try repository.referenceTarget("HEAD") == nil)
            #expect(!repository.isEmpty)
        }
    }

    // MARK: - Commits

    @Test func commitMetadata() throws {
        try GitSandbox.with { sandbox in
            let commits = try makeRepository(in: sandbox)
            try sandbox.git("checkout", "-q", "feature", in: "repo")
            try sandbox.write("{}\n", to: "flags/staging/b.json", in: "repo")
            let featureTip = try sandbox.commit("Add b", in: "repo", time: 1_700_000_300)
            try sandbox.git("checkout", "-q", "main", in: "repo")
            try sandbox.git(
                "merge",
                "-q",
                "--no-ff",
                "-m",
                "Merge feature\n\nBrings in b.",
                "feature",
                in: "repo",
                environment: [
                    "GIT_AUTHOR_DATE": "1700000400 -0230", "GIT_COMMITTER_DATE": "1700000500 +0000",
                    "GIT_COMMITTER_NAME": "Merge Bot", "GIT_COMMITTER_EMAIL": "bot@example.com",
                ]
            )
            let repository = try Repository.open(at: sandbox.path("repo"))
            let mergeID = try repository.resolveCommit("HEAD")
            let merge = try repository.commit(mergeID)

            #expect(merge.id == mergeID)
            #expect(merge.parents == [commits[2], featureTip])
            #expect(merge.tree == (try sandbox.revParse("HEAD^{tree}", in: "repo")))
            #expect(merge.subject == "Merge feature")
            #expect(merge.message == "Merge feature\n\nBrings in b.\n")
            #expect(
                merge.author
                    == Signature(
                        name: "Ada Lovelace",
                        email: "ada@example.com",
                        time: Date(timeIntervalSince1970: 1_700_000_400),
                        timeZoneOffsetMinutes: -150
                    )
            )
            #expect(merge.committer.name == "Merge Bot")
            #expect(merge.committer.email == "bot@example.com")
            #expect(merge.committer.time == Date(timeIntervalSince1970: 1_700_000_500))

            let root = try repository.commit(commits[0])
            #expect(root.parents.isEmpty)
            #expect(root.subject == "Add a")
            #expect(root.author.timeZoneOffsetMinutes == 60)
            #expect(try repository.commit(commits[1]).parents == [commits[0]])

            let treeID = merge.tree
            #expect(throws: GitError.self) { try repository.commit(treeID) }
        }
    }
}
