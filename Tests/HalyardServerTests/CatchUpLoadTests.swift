//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardServer
import HalyardSync
import HalyardTesting
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The first `flags-changed` event of each of many SSE clients, read through one HTTP client with a large pool.
final class FirstEventCollector: Sendable {
    struct Event: Sendable {
        let id: String
        let added: [String]
        let removed: [String]
        let changed: [String]
    }

    private let events = Mutex<[Int: Event]>([:])

    var count: Int { events.withLock { $0.count } }
    var all: [Int: Event] { events.withLock { $0 } }

    /// Reads one stream until it is cancelled, keeping its first `flags-changed` event.
    func read(_ index: Int, port: Int, path: String, lastEventID: String, client: HTTPClient) async {
        var request = HTTPClientRequest(url: "http://localhost:\(port)\(path)")
        request.headers.add(name: "Last-Event-ID", value: lastEventID)
        guard let response = try? await client.execute(request, timeout: .seconds(600)) else { return }
        // Blocks end with a blank line; each byte is searched once (with Foundation's optimised search), so a 100 KB
        // event costs linear time even in a debug build.
        var bytes = Data()
        var blockStart = 0
        var searched = 0
        var found = false
        let blankLine = Data("\n\n".utf8)
        do {
            // Reads on after the first event, keeping the connection open as a reconnected client does.
            for try await chunk in response.body where !found {
                bytes.append(contentsOf: chunk.readableBytesView)
                while !found, let end = bytes.range(of: blankLine, in: max(searched, blockStart)..<bytes.count) {
                    let block = String(decoding: bytes[blockStart..<end.lowerBound], as: UTF8.self)
                    if let event = Self.event(in: block) {
                        found = true
                        events.withLock { $0[index] = event }
                    }
                    blockStart = end.upperBound
                    searched = blockStart
                }
                searched = max(searched, bytes.count - 1)
            }
        } catch {}
    }

    private static func event(in block: String) -> Event? {
        guard block.contains("event: flags-changed") else { return nil }
        var id = ""
        var data = ""
        for line in block.split(separator: "\n") {
            if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            if line.hasPrefix("data: ") { data += String(line.dropFirst(6)) }
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
        return Event(
            id: id,
            added: json["added"] as? [String] ?? [],
            removed: json["removed"] as? [String] ?? [],
            changed: json["changed"] as? [String] ?? []
        )
    }
}

/// DESIGN §13 "catch-up is cheap": hundreds of stale `Last-Event-ID`s at 10,000 flags never delay applying a commit.
struct CatchUpLoadTests {
    static func flagID(_ index: Int) -> String { "f" + String(repeating: "0", count: 4 - String(index).count) + String(index) }
    static func addedID(_ index: Int) -> String { "g" + String(repeating: "0", count: 3 - String(index).count) + String(index) }

    @Test func testStaleLastEventIDsNeverDelayAnApplyAndStayCorrect() async throws {
        let pollInterval = Duration.milliseconds(100)
        let fixture = try ServerFixture(
            configuration: HTTPAPIConfiguration(adminToken: "admin-secret", sseKeepAlive: .seconds(60)),
            localPollInterval: pollInterval,
            seed: { repository in
                for index in 0..<10_000 {
                    try repository.write("flags/production/\(Self.flagID(index)).json", FlagFile.plan("v0"))
                }
            }
        )
        let repository = fixture.repository
        let a = try repository.git("rev-parse", "HEAD")
        for index in 0..<100 { try repository.write("flags/production/\(Self.flagID(index)).json", FlagFile.plan("v1")) }
        let b = try repository.commit("change 100 flags")
        for index in 100..<200 { try repository.write("flags/production/\(Self.flagID(index)).json", FlagFile.plan("v1")) }
        for index in 9_900..<10_000 { try repository.remove("flags/production/\(Self.flagID(index)).json") }
        for index in 0..<50 { try repository.write("flags/production/\(Self.addedID(index)).json", FlagFile.plan("v0")) }
        let c = try repository.commit("change 100, remove 100, add 50")
        for index in 200..<250 { try repository.write("flags/production/\(Self.flagID(index)).json", FlagFile.plan("v1")) }
        let d = try repository.commit("change 50 more")
        let unknown = "0123456789abcdef0123456789abcdef01234567"

        let added = (0..<50).map(Self.addedID)
        let removed = (9_900..<10_000).map(Self.flagID)
        let expectedToD: [String: (added: [String], removed: [String], changed: [String])] = [
            a: (added, removed, (0..<250).map(Self.flagID)),
            b: (added, removed, (100..<250).map(Self.flagID)),
            c: ([], [], (200..<250).map(Self.flagID)),
        ]
        let served = ((0..<9_900).map(Self.flagID) + added).sorted()
        let stale = [a, b, c, unknown]

        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: 1_000)
            )
        )
        let collector = FirstEventCollector()
        let streams = 300
        // The client must be shut down whatever happens.
        let outcome: Result<Void, any Error>
        do {
            try await fixture.application().test(.live) { testClient in
                try await fixture.waitUntilServing(d, timeout: .seconds(300))
                let port = try #require(testClient.port)
                let readers = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for index in 0..<streams {
                            group.addTask {
                                await collector.read(
                                    index,
                                    port: port,
                                    path: "/v1/environments/production/stream",
                                    lastEventID: stale[index % stale.count],
                                    client: client
                                )
                            }
                        }
                    }
                }
                defer { readers.cancel() }
                // Half the clients are subscribed, so their catch-ups are being built (or, before the fix, queued on the
                // git worker) when the next commit is pushed.
                try await eventually("\(streams / 2) stream clients subscribe", timeout: .seconds(120)) {
                    fixture.hub.clientCount >= streams / 2
                }

                try repository.write("flags/production/\(Self.flagID(300)).json", FlagFile.plan("v1"))
                let e = try repository.commit("pushed meanwhile")
                // The bound of DESIGN §13: the commit applies within the poll interval plus one second.
                try await fixture.waitUntilServing(e, timeout: pollInterval + .seconds(1))

                try await eventually("every client gets its catch-up event", timeout: .seconds(300)) { collector.count == streams }
                for (index, event) in collector.all.sorted(by: { $0.key < $1.key }) {
                    let old = stale[index % stale.count]
                    #expect(event.id == d || event.id == e, "client \(index): event id \(event.id)")
                    let plusE = event.id == e ? [Self.flagID(300)] : []
                    if let expected = expectedToD[old] {
                        #expect(event.added == expected.added, "client \(index) from \(old)")
                        #expect(event.removed == expected.removed, "client \(index) from \(old)")
                        #expect(event.changed == (expected.changed + plusE).sorted(), "client \(index) from \(old)")
                    } else {
                        #expect(event.added.isEmpty && event.removed.isEmpty, "client \(index): unknown commit")
                        #expect(event.changed == served, "client \(index): an unknown commit gets every flag id in changed")
                    }
                }
                readers.cancel()
                await readers.value
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await client.shutdown()
        try outcome.get()
    }
}
