import ArgumentParser
import AsyncHTTPClient
import Foundation
import HalyardGit
import HalyardNotify
import HalyardServer
import HalyardSync
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `halyard serve`: the watcher, the webhook deliverer and the HTTP API in one service group.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the watcher service: follow the flag branch, serve the flags, call subscribers on change.",
        discussion: """
            With no arguments it serves the git repository in the current directory (local mode). Settings come from \
            these flags, then HALYARD_* environment variables, then the JSON config file; see the README for every key.
            """
    )

    @Option(help: "A JSON config file.")
    var config: String?

    @Option(help: "The flag repository: '.' (local mode), a path to another repository, or a URL. (repo.url)")
    var repo: String?

    @Option(help: "The branch to follow. (repo.branch)")
    var branch: String?

    @Option(name: .customLong("flags-dir"), help: "The flags directory inside the repository. (repo.flagsDir)")
    var flagsDirectory: String?

    @Option(name: .customLong("poll-interval"), help: "How often a remote is fetched, e.g. 30s. (repo.pollInterval)")
    var pollInterval: String?

    @Option(help: "The address to listen on. (http.host)")
    var host: String?

    @Option(help: "The port to listen on; 0 picks a free one. (http.port)")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Where the mirror and the state database live. (dataDir)")
    var dataDirectory: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. (log.level)")
    var logLevel: String?

    func run() async throws {
        var overrides: [String: String] = [:]
        overrides["repo.url"] = repo
        overrides["repo.branch"] = branch
        overrides["repo.flagsDir"] = flagsDirectory
        overrides["repo.pollInterval"] = pollInterval
        overrides["http.host"] = host
        overrides["http.port"] = port.map(String.init)
        overrides["dataDir"] = dataDirectory
        overrides["log.level"] = logLevel
        let settings: ServeConfiguration
        do {
            settings = try await ServeConfiguration.load(
                overrides: overrides,
                file: config,
                environment: ProcessInfo.processInfo.environment
            )
        } catch let error as CLIError {
            printError("error: \(error.message)")
            throw ExitCode(error.exitCode)
        }
        try await ServeRunner(settings: settings).run()
    }
}
