import Foundation
import HalyardGit
import Testing

struct DiffTests {
    /// Commits in "repo": `empty` (README only), `before` (flags), `after` (every kind of change).
    struct Fixture {
        let empty: ObjectID
        let before: ObjectID
        let after: ObjectID
    }

    func makeRepository(in sandbox: GitSandbox) throws -> Fixture {
        try sandbox.initRepository("repo")
        try sandbox.write("# Repo\n", to: "README.md", in: "repo")
        let empty = try sandbox.commit("README", in: "repo", time: 1_700_000_000)
        for name in ["a", "b", "c"] {
            try sandbox.write("{\"name\": \"\(name)\"}\n", to: "flags/production/\(name).json", in: "repo")
        }
        try sandbox.write("#!/bin/sh\n", to: "flags/production/tool.sh", in: "repo")
        try sandbox.write("{}\n", to: "flags/staging/s.json", in: "repo")
        let before = try sandbox.commit("Flags", in: "repo", time: 1_700_000_100)

        try sandbox.write("{\"name\": \"A\"}\n", to: "flags/production/a.json", in: "repo")
        try FileManager.default.removeItem(atPath: sandbox.path("repo/flags/production/b.json"))
        try sandbox.symlink("flags/production/c.json", to: "a.json", in: "repo")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sandbox.path("repo/flags/production/tool.sh"))
        try sandbox.write("{}\n", to: "flags/development/d.json", in: "repo")
        try sandbox.git("mv", "flags/staging/s.json", "flags/staging/t.json", in: "repo")
        try sandbox.write("# Repo, edited\n", to: "README.md", in: "repo")
        let after = try sandbox.commit("Change everything", in: "repo", time: 1_700_000_200)
        return Fixture(empty: empty, before: before, after: after)
    }

    @Test func everyKindOfChange() throws {
        try GitSandbox.with { sandbox in
            let fixture = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            func id(_ revision: String) throws -> ObjectID { try sandbox.revParse(revision, in: "repo") }
            let before = fixture.before.hex
            let after = fixture.after.hex

            let changes = try repository.diff(from: fixture.before, to: fixture.after, under: "flags")
            #expect(
                changes == [
                    TreeChange(
                        status: .added,
                        path: "flags/development/d.json",
                        oldID: nil,
                        newID: try id("\(after):flags/development/d.json"),
                        oldKind: nil,
                        newKind: .blob
                    ),
                    TreeChange(
                        status: .modified,
                        path: "flags/production/a.json",
                        oldID: try id("\(before):flags/production/a.json"),
                        newID: try id("\(after):flags/production/a.json"),
                        oldKind: .blob,
                        newKind: .blob
                    ),
                    TreeChange(
                        status: .deleted,
                        path: "flags/production/b.json",
                        oldID: try id("\(before):flags/production/b.json"),
                        newID: nil,
                        oldKind: .blob,
                        newKind: nil
                    ),
                    TreeChange(
                        status: .typeChanged,
                        path: "flags/production/c.json",
                        oldID: try id("\(before):flags/production/c.json"),
                        newID: try id("\(after):flags/production/c.json"),
                        oldKind: .blob,
                        newKind: .symlink
                    ),
                    TreeChange(
                        status: .modified,
                        path: "flags/production/tool.sh",
                        oldID: try id("\(before):flags/production/tool.sh"),
                        newID: try id("\(before):flags/production/tool.sh"),
                        oldKind: .blob,
                        newKind: .executable
                    ),
                    TreeChange(
                        status: .deleted,
                        path: "flags/staging/s.json",
                        oldID: try id("\(before):flags/staging/s.json"),
                        newID: nil,
                        oldKind: .blob,
                        newKind: nil
                    ),
                    TreeChange(
                        status: .added,
                        path: "flags/staging/t.json",
                        oldID: nil,
                        newID: try id("\(after):flags/staging/t.json"),
                        oldKind: nil,
                        newKind: .blob
                    ),
                ]
            )

            let gitNames = try sandbox.git("diff", "--name-only", "--no-renames", before, after, "--", "flags", in: "repo")
            #expect(changes.map(\.path) == gitNames.split(separator: "\n").map(String.init))
        }
    }

    @Test func restrictedToPrefix() throws {
        try GitSandbox.with { sandbox in
            let fixture = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))

            let everything = try repository.diff(from: fixture.before, to: fixture.after, under: "")
            #expect(everything.contains { $0.path == "README.md" && $0.status == .modified })
            #expect(try repository.diff(from: fixture.before, to: fixture.after, under: "flags").allSatisfy { $0.path.hasPrefix("flags/") })
            #expect(
                try repository.diff(from: fixture.before, to: fixture.after, under: "flags/staging").map(\.path) == [
                    "flags/staging/s.json", "flags/staging/t.json",
                ]
            )
            #expect(try repository.diff(from: fixture.before, to: fixture.after, under: "fla").isEmpty)
            #expect(try repository.diff(from: fixture.empty, to: fixture.before, under: "nowhere").isEmpty)
            #expect(try repository.diff(from: fixture.after, to: fixture.after, under: "flags").isEmpty)
        }
    }

    @Test func fromTheEmptyTreeOrAnAbsentPrefix() throws {
        try GitSandbox.with { sandbox in
            let fixture = try makeRepository(in: sandbox)
            let repository = try Repository.open(at: sandbox.path("repo"))
            let entries = try repository.entries(inCommit: fixture.before, under: "flags")

            let fromNil = try repository.diff(from: nil, to: fixture.before, under: "flags")
            #expect(fromNil.allSatisfy { $0.status == .added && $0.oldID == nil && $0.oldKind == nil })
            #expect(fromNil.map(\.path) == entries.map(\.path))
            #expect(fromNil.map(\.newID) == entries.map(\.id))

            #expect(try repository.diff(from: fixture.empty, to: fixture.before, under: "flags") == fromNil)

            let removed = try repository.diff(from: fixture.before, to: fixture.empty, under: "flags")
            #expect(removed.map(\.status) == Array(repeating: .deleted, count: entries.count))
        }
    }

    /// A big directory where the changes sit at the very start, in the middle and at the very end (the diff skips the
    /// bytes the two tree objects share at both ends), a file that becomes a directory, and names that are prefixes of
    /// one another: the changes are git's.
    @Test func bigDirectoriesMatchGitAtBothEnds() throws {
        try GitSandbox.with { sandbox in
            try sandbox.initRepository("repo")
            for index in 0..<300 {
                try sandbox.write("{\"v\": 0}\n", to: "flags/production/f\(String(format: "%03d", index)).json", in: "repo")
            }
            try sandbox.write("{}\n", to: "flags/production/f150", in: "repo")
            try sandbox.write("{}\n", to: "flags/production/f150.json.bak", in: "repo")
            let before = try sandbox.commit("300 flags", in: "repo", time: 1_700_000_000)
            // Files to write (or, for nil, remove), in order.
            let rounds: [[(String, String?)]] = [
                // The first and the last entry.
                [("f000.json", "{\"v\": 1}\n"), ("f299.json", "{\"v\": 1}\n")],
                // One in the middle, one added at the end, one added at the start.
                [("f150.json", nil), ("f300.json", "{}\n"), ("a.json", "{}\n")],
                // A file that becomes a directory, beside names it is a prefix of.
                [("f150", nil), ("f150/x.json", "{}\n"), ("f149.json", "{\"v\": 2}\n")],
            ]
            var previous = before
            for (number, round) in rounds.enumerated() {
                for (name, contents) in round {
                    let file = "flags/production/" + name
                    if let contents {
                        try sandbox.write(contents, to: file, in: "repo")
                    } else {
                        try FileManager.default.removeItem(atPath: sandbox.path("repo/" + file))
                    }
                }
                let next = try sandbox.commit("round \(number)", in: "repo", time: 1_700_000_100 + number)
                let repository = try Repository.open(at: sandbox.path("repo"))
                let changes = try repository.diff(from: previous, to: next, under: "flags")
                let git = try sandbox.git("diff", "--name-status", "--no-renames", previous.hex, next.hex, "--", "flags", in: "repo")
                let expected = git.split(separator: "\n").map { line in
                    let fields = line.split(separator: "\t")
                    return "\(fields[0]) \(fields[1])"
                }
                let letters: [TreeChange.Status: String] = [.added: "A", .deleted: "D", .modified: "M", .typeChanged: "T"]
                #expect(changes.map { "\(letters[$0.status]!) \($0.path)" } == expected, "round \(number)")
                previous = next
            }
        }
    }
}
