//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardNotify
import HalyardService
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The service as `halyard serve` builds it, bound to a port the system chooses.
@Suite struct ServiceAssemblyTests {
    /// With `http.port` 0 and no `http.publicURL`, the port is known only once the server is bound; the webhook's
    /// `flagsUrl` must name that port, so a subscriber fetching it on receipt reaches this service.
    @Test func webhookFlagsURLNamesTheBoundPort() async throws {
        let repository = try GitRepository()
        try repository.write("flags/production/dark-mode.json", FlagFile.everybody)
        try repository.commit("initial flags")
        let logger = Logger(label: "halyard-service-tests")
        let webhookClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: WebhookDeliverer.httpClientConfiguration()
        )
        let receiver = try await TestReceiver.start()
        do {
            let receiverPort = receiver.port
            let service = try HalyardService(
                configuration: ServiceConfiguration(
                    repository: WatcherConfiguration(
                        source: .local(path: repository.path),
                        branch: "main",
                        localPollInterval: .milliseconds(100)
                    ),
                    http: ServiceConfiguration.HTTP(host: "127.0.0.1", port: 0),
                    notify: ServiceConfiguration.Notify(allowPrivateNetworks: true),
                    dataDirectory: try TemporaryDirectory.make(prefix: "halyard-service-data"),
                    logLevel: .critical
                ),
                logger: logger,
                webhookClient: webhookClient
            )
            _ = try service.database.createSubscription(
                url: "http://127.0.0.1:\(receiverPort)/hook",
                environments: ["production"],
                policy: .any
            )
            let running = Task { try await service.run() }
            defer { running.cancel() }
            try await eventually("the service serves and is bound") {
                service.store.current != nil && service.publicBaseURL != nil
            }

            try repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            let commit = try repository.commit("dark mode off")
            try await eventually("the webhook arrives") { !receiver.requests.isEmpty }
            let json = try #require(receiver.requests[0].json)
            let data = try #require(json["data"] as? [String: Any])
            #expect(data["commit"] as? String == commit)
            let flagsURL = try #require(data["flagsUrl"] as? String)
            let url = try #require(URL(string: flagsURL))
            #expect(url.host == "127.0.0.1")
            #expect(url.path == "/v1/environments/production/flags")
            let port = try #require(url.port)
            #expect(port != 0)
            #expect(service.publicBaseURL == "http://127.0.0.1:\(port)")

            // The URL reaches this very service: it answers with the flags of the commit the webhook names.
            let response = try await webhookClient.execute(HTTPClientRequest(url: flagsURL), timeout: .seconds(10))
            #expect(response.status == .ok)
            let served = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(served.contains("dark-mode"))
            running.cancel()
            _ = try? await running.value
        }
        await receiver.stop()
        try await webhookClient.shutdown()
    }
}
