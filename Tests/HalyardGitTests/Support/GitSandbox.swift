import Foundation
import HalyardGit
import HalyardTesting
import Testing

/// A temporary directory in which tests build real repositories with the git CLI; removed when the test ends.
struct GitSandbox {
    /// The sandbox directory (no trailing slash).
    let root: String

    /// Runs `body` with a fresh sandbox and removes it afterwards.
    static func with<Result>(_ body: (GitSandbox) throws -> Result) throws -> Result {
        let sandbox = try GitSandbox()
        defer { try? FileManager.default.removeItem(atPath: sandbox.root) }
        return try body(sandbox)
    }

    /// Runs the async `body` with a fresh sandbox and removes it afterwards.
    static func with<Result>(_ body: (GitSandbox) async throws -> Result) async throws -> Result {
        let sandbox = try GitSandbox()
        defer { try? FileManager.default.removeItem(atPath: sandbox.root) }
        return try await body(sandbox)
    }

    private init() throws {
        root = try TemporaryDirectory.make(prefix: "halyard-git")
    }

    /// The absolute path of `relative` inside the sandbox.
    func path(_ relative: String) -> String {
        (root as NSString).appendingPathComponent(relative)
    }

    /// Runs git in `directory` (relative to the sandbox) with a fixed identity, through the shared ``Git`` runner.
    @discardableResult
    func git(_ arguments: String..., in directory: String, environment: [String: String] = [:]) throws -> String {
        try git(arguments, in: directory, environment: environment)
    }

    /// Runs git with an argument array, through the shared ``Git`` runner.
    @discardableResult
    func git(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> String {
        try Git.run(arguments, in: path(directory), environment: environment)
    }

    /// `git init -b main` of a new working repository at `directory`.
    func initRepository(_ directory: String, bare: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: path(directory), withIntermediateDirectories: true)
        try git(bare ? ["init", "--bare", "-q"] : ["init", "-q"], in: directory)
    }

    /// Writes `contents` to `file` inside `directory`, creating parent directories.
    func write(_ contents: String, to file: String, in directory: String) throws {
        let target = path(directory + "/" + file)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: target, atomically: false, encoding: .utf8)
    }

    /// Stages everything (unless `stageAll` is false) and commits at Unix time `time` (+0100), returning the new commit's id.
    @discardableResult
    func commit(
        _ message: String,
        in directory: String,
        time: Int = 1_700_000_000,
        stageAll: Bool = true,
        environment: [String: String] = [:]
    ) throws -> ObjectID {
        if stageAll {
            try git("add", "-A", in: directory)
        }
        var dates = ["GIT_AUTHOR_DATE": "\(time) +0100", "GIT_COMMITTER_DATE": "\(time) +0100"]
        dates.merge(environment) { $1 }
        try git("commit", "-q", "--allow-empty", "-m", message, in: directory, environment: dates)
        return try revParse("HEAD", in: directory)
    }

    /// Creates a symbolic link `link` (inside `directory`) pointing at `target`.
    func symlink(_ link: String, to target: String, in directory: String) throws {
        let linkPath = path(directory + "/" + link)
        try? FileManager.default.removeItem(atPath: linkPath)
        try FileManager.default.createSymbolicLink(atPath: linkPath, withDestinationPath: target)
    }

    /// `git rev-parse <revision>` as an id.
    func revParse(_ revision: String, in directory: String) throws -> ObjectID {
        let hex = try git("rev-parse", revision, in: directory)
        return try #require(ObjectID(hex: hex), "git rev-parse \(revision) printed \(hex)")
    }
}
