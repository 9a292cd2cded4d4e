//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardClient
import HalyardClientHummingbird
import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird application on a loopback port whose only route is `POST /hooks/flags` of
/// `HalyardClientHummingbird`, as an application in webhook mode has.
struct RefreshApp {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(client: HalyardClient) async throws -> RefreshApp {
        let router = Router()
        router.addHalyardRefreshRoute("/hooks/flags", client: client)
        var logger = Logger(label: "refresh-app")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        let task = Task { try await group.run() }
        var port = 0
        for await value in ports { port = value }
        return RefreshApp(port: port, group: group, task: task)
    }

    var url: String { "http://127.0.0.1:\(port)/hooks/flags" }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
