import ArgumentParser
import Foundation
import HalyardGit
import HalyardRules
import HalyardSync

/// Where the flag repository is, shared by the read-only commands.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "The flag repository, or a directory inside it.")
    var repo: String = "."

    @Option(name: .customLong("flags-dir"), help: "The flags directory inside the repository.")
    var flagsDirectory: String = "flags"

    var loader: SnapshotLoader { SnapshotLoader(flagsDirectory: flagsDirectory) }

    /// Opens the git repository around `repo`.
    func openRepository() throws -> Repository {
        guard FileManager.default.fileExists(atPath: repo) else {
            throw CLIError("\(repo): no such directory", exitCode: 2)
        }
        do {
            return try Repository.discover(from: repo)
        } catch {
            throw CLIError("\(repo) is not inside a git repository (\(error.message))", exitCode: 2)
        }
    }

    /// Resolves a revision to a commit, with a clear error for empty repositories and unknown revisions.
    func resolve(_ revision: String, in repository: Repository) throws -> ObjectID {
        if repository.isEmpty {
            throw CLIError("the repository at \(repository.workingDirectory ?? repository.path) has no commits yet", exitCode: 2)
        }
        do {
            return try repository.resolveCommit(revision)
        } catch {
            throw CLIError("unknown revision '\(revision)' in \(repository.workingDirectory ?? repository.path)", exitCode: 2)
        }
    }

    /// The working-tree directory that holds the flags directory.
    func workingTreeRoot() throws -> String {
        if FileManager.default.fileExists(atPath: repo + "/" + flagsDirectory) { return repo }
        if let repository = try? Repository.discover(from: repo), let root = repository.workingDirectory {
            return root
        }
        throw CLIError("no \(flagsDirectory)/ directory in \(repo) (use --repo or --flags-dir)", exitCode: 2)
    }

    /// Reads one flag file, from the working tree or at a revision. Nil when it does not exist.
    func flagFile(environment: String, id: String, revision: String?) throws -> (path: String, bytes: [UInt8])? {
        let relative = flagsDirectory + "/" + environment + "/" + id + ".json"
        if let revision {
            let repository = try openRepository()
            let commit = try resolve(revision, in: repository)
            do {
                guard let blob = try repository.entryID(atPath: relative, inCommit: commit) else { return nil }
                return (relative, try repository.blob(blob))
            } catch {
                throw CLIError.git(error)
            }
        }
        let root = try workingTreeRoot()
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else { return nil }
        return (relative, [UInt8](data))
    }
}
