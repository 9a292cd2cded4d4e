import Foundation
import HalyardGit
import Testing

struct HistoryTests {
    /// main: c1 - c2 - c3 - merge - c4, where the merge brings in feature: c2 - f1 - f2. Ids by name.
    func makeRepository(in sandbox: GitSandbox) throws -> [String: ObjectID] {
        var ids = [String: ObjectID]()
        var time = 1_700_000_000
        func commit(_ name: String) throws {
            time += 60
            try sandbox.write("\(name)\n", to: "flags/production/\(name).json", in: "repo")
            ids[name] = try sandbox.commit("Commit \(name)", in: "repo", time: time)
        }
        try sandbox.initRepository("repo")
        try commit("c1")
        try commit("c2")
        try sandbox.git("checkout", "-q", "-b", "feature", in: "repo")
        try commit("f1")
        try commit("f2")
        try sandbox.git("checkout", "-q", "main", in: "repo")
        try commit("c3")
        try sandbox.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", in: "repo")
        ids["merge"] = try sandbox.revParse("HEAD", in: "repo")
        try commit("c4")
        return ids
    }

    @Test func followsFirstParentsNewestFirst() throws {
        try GitSandbox.with { sandbox in
            let ids = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let tip = try #require(ids["c4"])

            let history = try repository.firstParentHistory(from: tip)
            let walked = history.map(\.id)
            #expect(walked == ["c4", "merge", "c3", "c2", "c1"].map { ids[$0] })
            let gitOrder = try sandbox.git("rev-list", "--first-parent", tip.hex, in: "repo").split(separator: "\n")
            #expect(walked.map(\.hex) == gitOrder.map(String.init))

            // Restartable, lazy, and carries the metadata.
            #expect(history.map(\.id) == walked)
            #expect(history.prefix(2).map(\.subject) == ["Commit c4", "Merge feature"])
            #expect(try history.commits(limit: 3).map(\.id) == Array(walked.prefix(3)))
            #expect(history.first { $0.parents.count == 2 }?.parents == [ids["c3"]!, ids["f2"]!])

            let feature = try repository.firstParentHistory(from: try #require(ids["f2"]))
            #expect(try feature.commits().map(\.id) == ["f2", "f1", "c2", "c1"].map { ids[$0] })
            var iterator = feature.makeIterator()
            while iterator.next() != nil {}
            #expect(iterator.error == nil)
        }
    }

    @Test func startMustBeACommit() throws {
        try GitSandbox.with { sandbox in
            _ = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let tree = try sandbox.revParse("HEAD^{tree}", in: "repo")
            let error = try #require(throws: GitError.self) { try repository.firstParentHistory(from: tree) }
            #expect(error.description.hasPrefix("cannot walk the history from \(tree.shortHex) in \(sandbox.path("repo")): "))
        }
    }
}
