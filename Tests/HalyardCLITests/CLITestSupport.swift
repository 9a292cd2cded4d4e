import Foundation

/// The built `halyard` binary, run as a user would, with its output and exit status.
struct HalyardBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The binary sits next to the test bundle in the build products directory.
    static var url: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("halyard").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("halyard")
    }

    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HALYARD_") }.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self)
        )
    }
}

enum Flags {
    static let disney = """
        {"name": "Reporting", "active": true, "rules": [
          [{"type": "filter", "attribute": "env", "operator": "==", "comparator": "development"}],
          [{"type": "filter", "attribute": "env", "operator": "==", "comparator": "production"},
           {"type": "filter", "attribute": "customer", "operator": "in", "comparator": "Disney, Pop Tarts"}]
        ]}
        """
    static let off = #"{"active": false, "baseState": true, "rules": [[{"type": "everybody"}]]}"#
}
