//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import HalyardServer

/// Reads a live SSE response with AsyncHTTPClient and splits it into blocks (events and comments).
final class EventStreamReader: Sendable {
    /// One `flags-changed` event.
    struct Event {
        let id: String
        let name: String
        let data: [String: Any]
    }

    private let received = Mutex<(text: String, headers: [(String, String)], status: Int?, ended: Bool)>(("", [], nil, false))
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Connects to `http://localhost:<port><path>`.
    init(port: Int, path: String, headers: [(String, String)] = []) {
        let request = {
            var request = HTTPClientRequest(url: "http://localhost:\(port)\(path)")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            return request
        }()
        let reading = Task {
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                self.received.withLock { state in
                    state.status = Int(response.status.code)
                    state.headers = response.headers.map { ($0.name, $0.value) }
                }
                for try await chunk in response.body {
                    self.received.withLock { $0.text += String(buffer: chunk) }
                }
                self.received.withLock { $0.ended = true }
            } catch {}
        }
        task.withLock { $0 = reading }
    }

    /// Disconnects.
    func close() {
        task.withLock { $0?.cancel() }
    }

    var status: Int? { received.withLock { $0.status } }

    /// True once the server ended the response.
    var ended: Bool { received.withLock { $0.ended } }

    func header(_ name: String) -> String? {
        received.withLock { $0.headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Complete blocks so far (text between blank lines).
    var blocks: [String] {
        let text = received.withLock { $0.text }
        var parts = text.components(separatedBy: "\n\n")
        parts.removeLast()  // incomplete (or empty) tail
        return parts
    }

    /// The `flags-changed` events so far.
    var events: [Event] {
        blocks.compactMap { block in
            var id = ""
            var name = ""
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += String(line.dropFirst(6)) }
            }
            guard !name.isEmpty else { return nil }
            let json = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
            return Event(id: id, name: name, data: json)
        }
    }

    /// Waits until the server said it is subscribed.
    func waitUntilConnected() async throws {
        try await eventually("the stream is connected") { self.blocks.contains(": connected") }
    }

    /// Waits until `count` events arrived.
    func waitForEvents(_ count: Int) async throws -> [Event] {
        try await eventually("\(count) events arrive") { self.events.count >= count }
        return events
    }
}

struct StreamTests {
    @Test func testEventsOnlyForEffectiveChangesOfTheEnvironment() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", sseKeepAlive: .seconds(60)))
        let repository = fixture.repository
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let production = EventStreamReader(port: port, path: "/v1/environments/production/stream")
            defer { production.close() }
            let staging = EventStreamReader(port: port, path: "/v1/environments/staging/stream")
            defer { staging.close() }
            try await production.waitUntilConnected()
            try await staging.waitUntilConnected()
            #expect(production.status == 200)
            #expect(production.header("content-type") == "text/event-stream")
            try await eventually("two SSE clients are counted") { fixture.hub.clientCount == 2 }

            // Reformatting, key order and metadata: no event.
            try repository.write(
                "flags/production/new-checkout.json",
                """
                {
                    "rules": [ [ { "comparator": "enterprise", "operator": "==", "attribute": "plan", "type": "filter" } ] ],
                    "active": true,
                    "name": "New checkout"
                }
                """
            )
            let reformatted = try repository.commit("reformat and rename")
            try await fixture.waitUntilServing(reformatted)

            // A staging-only change: an event on staging only.
            try repository.write("flags/staging/new-checkout.json", FlagFile.nobody)
            let stagingChange = try repository.commit("staging off")
            try await fixture.waitUntilServing(stagingChange)
            let stagingEvents = try await staging.waitForEvents(1)
            #expect(stagingEvents.first?.id == stagingChange)
            #expect(stagingEvents.first?.data["changed"] as? [String] == ["new-checkout"])

            // An effective production change: one event.
            try repository.write("flags/production/dark-mode.json", FlagFile.nobody)
            try repository.write("flags/production/beta.json", FlagFile.everybody)
            try repository.remove("flags/production/new-checkout.json")
            let change = try repository.commit("production changes")
            try await fixture.waitUntilServing(change)
            let events = try await production.waitForEvents(1)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.id == change)
            #expect(event.name == "flags-changed")
            #expect(event.data["environment"] as? String == "production")
            #expect(event.data["commit"] as? String == change)
            #expect(event.data["added"] as? [String] == ["beta"])
            #expect(event.data["removed"] as? [String] == ["new-checkout"])
            #expect(event.data["changed"] as? [String] == ["dark-mode"])
            #expect(staging.events.count == 1)

            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.text.contains("halyard_sse_clients 2"))
            }
            production.close()
            staging.close()
            try await eventually("the clients are gone") { fixture.hub.clientCount == 0 }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.text.contains("halyard_sse_clients 0"))
            }
        }
    }

    @Test func testLastEventIDCatchUp() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(adminToken: "admin-secret", sseKeepAlive: .milliseconds(200)))
        let repository = fixture.repository
        let first = try repository.git("rev-parse", "HEAD")
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing(first)
            try repository.write("flags/production/new-checkout.json", FlagFile.everybody)
            try repository.write("flags/production/beta.json", FlagFile.everybody)
            let second = try repository.commit("roll out")
            try await fixture.waitUntilServing(second)
            // A commit that leaves production alone: its lastChange stays `second`.
            try repository.write("flags/staging/other.json", FlagFile.everybody)
            let third = try repository.commit("staging only")
            try await fixture.waitUntilServing(third)
            let port = try #require(client.port)
            let path = "/v1/environments/production/stream"

            // A known older commit: the change from it to now.
            let known = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", first)])
            defer { known.close() }
            let knownEvent = try #require(try await known.waitForEvents(1).first)
            #expect(knownEvent.id == second)
            #expect(knownEvent.data["commit"] as? String == second)
            #expect(knownEvent.data["added"] as? [String] == ["beta"])
            #expect(knownEvent.data["removed"] as? [String] == [])
            #expect(knownEvent.data["changed"] as? [String] == ["new-checkout"])

            // An unknown commit: every flag is `changed`.
            let unknown = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", "not-a-commit")])
            defer { unknown.close() }
            let unknownEvent = try #require(try await unknown.waitForEvents(1).first)
            #expect(unknownEvent.id == second)
            #expect(unknownEvent.data["added"] as? [String] == [])
            #expect(unknownEvent.data["changed"] as? [String] == ["beta", "dark-mode", "new-checkout"])

            let missing = String(repeating: "0", count: 40)
            let gone = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", missing)])
            defer { gone.close() }
            #expect(try await gone.waitForEvents(1).first?.data["changed"] as? [String] == ["beta", "dark-mode", "new-checkout"])

            // Up to date (the last change, or the served commit): no event, only keep-alives.
            for upToDate in [second, third] {
                let current = EventStreamReader(port: port, path: path, headers: [("Last-Event-ID", upToDate)])
                defer { current.close() }
                try await self.waitForKeepAlives(2, on: current)
                #expect(current.events.isEmpty)
            }

            // The catch-up stream goes on with live events.
            try repository.write("flags/production/beta.json", FlagFile.nobody)
            let fourth = try repository.commit("beta off")
            try await fixture.waitUntilServing(fourth)
            let events = try await known.waitForEvents(2)
            #expect(events.map(\.id) == [second, fourth])
            #expect(events.last?.data["changed"] as? [String] == ["beta"])
        }
    }

    @Test func testStreamNeedsAReadToken() async throws {
        let fixture = try ServerFixture(configuration: HTTPAPIConfiguration(readTokens: ["reader"]))
        try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let port = try #require(client.port)
            let denied = EventStreamReader(port: port, path: "/v1/environments/production/stream")
            defer { denied.close() }
            try await eventually("the answer arrives") { denied.status != nil }
            #expect(denied.status == 401)
            let allowed = EventStreamReader(
                port: port,
                path: "/v1/environments/production/stream",
                headers: [("Authorization", "Bearer reader")]
            )
            defer { allowed.close() }
            try await allowed.waitUntilConnected()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func testStreamsEndWhenTheServerShutsDown() async throws {
        let fixture = try ServerFixture()
        let reader = try await fixture.application().test(.live) { client in
            try await fixture.waitUntilServing()
            let reader = EventStreamReader(port: try #require(client.port), path: "/v1/environments/production/stream")
            try await reader.waitUntilConnected()
            return reader
        }
        defer { reader.close() }
        try await eventually("the stream ends") { reader.ended }
        #expect(fixture.hub.clientCount == 0)
    }

    @Test func testTheHubDropsClientsThatFallBehind() async throws {
        let hub = EventHub(bufferSize: 2)
        let subscription = hub.subscribe(environment: "production")
        #expect(hub.clientCount == 1)
        for index in 0..<3 {
            hub.flagsApplied(Self.change(commit: "c\(index)", environment: "production"))
        }
        var commits: [String] = []
        for await message in subscription.stream {
            if case .event(let commit, _) = message { commits.append(commit) }
        }
        #expect(commits == ["c0", "c1"])
        #expect(hub.clientCount == 0)
        hub.shutdown()
        var afterShutdown = hub.subscribe(environment: "production").stream.makeAsyncIterator()
        #expect(await afterShutdown.next() == nil)
    }

    static func change(commit: String, environment: String) -> AppliedChange {
        AppliedChange(
            commit: commit,
            previousCommit: nil,
            changes: ChangeSet(environments: [environment: EnvironmentChangeSet(changed: ["flag"])]),
            appliedAt: Date()
        )
    }

    /// Waits until `reader` has received `count` keep-alive comments.
    private func waitForKeepAlives(_ count: Int, on reader: EventStreamReader) async throws {
        try await eventually("\(count) keep-alives arrive") { reader.blocks.filter { $0 == ": keep-alive" }.count >= count }
    }
}
