import Foundation
import HalyardGit
import HalyardTesting

/// A real git repository for the sync tests: the shared ``GitRepository``, with commits as ``ObjectID``s.
struct TestRepository {
    let repository: GitRepository
    var path: String { repository.path }

    init() throws {
        repository = try GitRepository(prefix: "halyard-sync")
    }

    func remove() {
        repository.destroy()
    }

    @discardableResult
    func git(_ arguments: String...) throws -> String {
        try repository.git(arguments)
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        try repository.git(arguments)
    }

    func write(_ relativePath: String, _ contents: String) throws {
        try repository.write(relativePath, contents)
    }

    func delete(_ relativePath: String) throws {
        try repository.remove(relativePath)
    }

    /// Stages everything and commits; returns the new commit's id.
    @discardableResult
    func commit(_ message: String) throws -> ObjectID {
        let hex = try repository.commit(message)
        guard let id = ObjectID(hex: hex) else { throw TestFailure("git rev-parse HEAD printed \(hex)") }
        return id
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
