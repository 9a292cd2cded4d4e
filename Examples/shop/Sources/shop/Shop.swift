//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import HalyardClient
import Hummingbird
import Logging
import ServiceLifecycle
import ShopApp

/// `shop`: a Hummingbird app whose page follows Halyard's flags.
@main
struct ShopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shop", abstract: "A small shop that follows Halyard's flags.")

    @Option(help: "Halyard's base URL.") var halyardURL: String
    @Option(help: "The environment whose flags the shop follows.") var environment: String
    @Option(help: "The port to listen on, on 127.0.0.1.") var port: Int
    @Option(help: "stream, webhook or poll.") var mode: String = "stream"
    @Option(help: "The poll interval in milliseconds (poll mode).") var pollMilliseconds: Int = 1000
    @Option(help: "A whsec_ secret of refresh calls; repeat during a rotation.") var webhookSecret: [String] = []
    @Option(help: "Where the last good flags are kept.") var cacheFile: String?
    @Option(help: "Halyard's read token.") var readToken: String?

    func run() async throws {
        let updateMode: UpdateMode
        switch mode {
        case "stream": updateMode = .stream
        case "webhook": updateMode = .webhook
        case "poll": updateMode = .poll(interval: .milliseconds(pollMilliseconds))
        default: throw ValidationError("--mode is stream, webhook or poll, not \(mode)")
        }
        let logger = Logger(label: "shop")
        let flags = try HalyardClient(
            configuration: HalyardClientConfiguration(
                baseURL: halyardURL, environment: environment, readToken: readToken, updateMode: updateMode, webhookSecrets: webhookSecret,
                cacheFile: cacheFile),
            logger: logger)
        let app = Application(
            router: Shop.router(flags: flags),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: logger)
        let group = ServiceGroup(services: [flags, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
