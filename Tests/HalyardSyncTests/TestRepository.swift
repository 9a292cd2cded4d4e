import Foundation
import HalyardGit

/// A real git repository in a temporary directory, driven by the git CLI, for tests.
struct TestRepository {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("halyard-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
        try run(arguments)
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments =
            ["-C", path, "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "-c", "commit.gpgsign=false"]
            + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("git \(arguments.joined(separator: " ")) failed: \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func write(_ relativePath: String, _ contents: String) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    func delete(_ relativePath: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + relativePath)
    }

    /// Stages everything and commits; returns the new commit's id.
    @discardableResult
    func commit(_ message: String) throws -> ObjectID {
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return ObjectID(hex: try git("rev-parse", "HEAD"))!
    }

    func open() throws -> Repository {
        try Repository.open(at: path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Flag file contents for tests.
enum FlagText {
    static func simple(active: Bool = true, baseState: Bool? = nil, customer: String = "Disney", name: String? = nil) -> String {
        var fields = ["\"active\": \(active)"]
        if let baseState { fields.append("\"baseState\": \(baseState)") }
        if let name { fields.append("\"name\": \"\(name)\"") }
        fields.append(
            "\"rules\": [[{\"type\": \"filter\", \"attribute\": \"customer\", \"operator\": \"==\", \"comparator\": \"\(customer)\"}]]"
        )
        return "{" + fields.joined(separator: ", ") + "}\n"
    }

    /// The same flag as `simple()`, reformatted with keys in another order.
    static let simpleReformatted = """
        {
            "rules": [
                [
                    { "comparator": "Disney", "operator": "==", "attribute": "customer", "type": "filter" }
                ]
            ],
            "active": true
        }
        """

    /// The same flag as `simple()`, written in Semaphore 0.2 syntax.
    static let simpleV02 = """
        {"active": true, "matchRules": "ALL", "rules": [{"type": "filter", "attribute": "customer", "operator": "==", "comparator": "Disney"}]}
        """
}
