//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// Runs the `git` command line as the tests need it: a fixed identity, no signing, branch `main`.
public enum Git {
    /// Held while Foundation spawns a process; every spawn in this module takes it (see ``LoopbackDaemon``).
    static let spawning = Mutex(())

    /// Runs `/usr/bin/git` in `directory` and returns its standard output, trimmed; throws ``GitCommandFailure`` when
    /// git exits with a failure.
    @discardableResult
    public static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments =
            [
                "-C", directory,
                "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "-c", "commit.gpgsign=false",
                "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false",
            ] + arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        // Foundation's `Process.run()` has crashed (a bad copy while spawning) when many test threads spawn at once:
        // spawn one git at a time; the runs themselves overlap.
        try spawning.withLock { _ in try process.run() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GitCommandFailure(arguments: arguments, output: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: outputData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A git command that exited with a failure, with what it printed on standard error.
public struct GitCommandFailure: Error, CustomStringConvertible {
    /// The arguments git was run with.
    public let arguments: [String]
    /// Its standard error.
    public let output: String

    /// `git <arguments> failed: <output>`.
    public var description: String { "git \(arguments.joined(separator: " ")) failed: \(output)" }
}

/// A real git repository (a working tree on branch `main`) in a fresh temporary directory, driven by the git CLI.
public struct GitRepository: Sendable {
    /// The repository's directory (no trailing slash).
    public let path: String

    /// Creates a fresh directory named `<prefix>-<uuid>` and, unless `initialize` is false, runs `git init` in it.
    public init(prefix: String = "halyard-test", initialize: Bool = true) throws {
        path = try TemporaryDirectory.make(prefix: prefix)
        if initialize {
            try git("init", "-q", "-b", "main")
        }
    }

    /// Runs git in the repository and returns its standard output, trimmed.
    @discardableResult
    public func git(_ arguments: String...) throws -> String {
        try Git.run(arguments, in: path)
    }

    /// Runs git in the repository with an argument array and extra environment variables.
    @discardableResult
    public func git(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        try Git.run(arguments, in: path, environment: environment)
    }

    /// Writes a file (creating its directories), relative to the repository root.
    public func write(_ relativePath: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }

    /// Removes a file, relative to the repository root.
    public func remove(_ relativePath: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + relativePath)
    }

    /// Stages everything and commits (an empty commit when nothing changed); returns the new commit's id in hex.
    @discardableResult
    public func commit(_ message: String) throws -> String {
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try git("rev-parse", "HEAD")
    }

    /// Removes the whole repository directory.
    public func destroy() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Unique temporary directories.
public enum TemporaryDirectory {
    /// The path of a new empty directory `<tmp>/<prefix>-<uuid>`.
    public static func make(prefix: String) throws -> String {
        let path = (FileManager.default.temporaryDirectory.path as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
