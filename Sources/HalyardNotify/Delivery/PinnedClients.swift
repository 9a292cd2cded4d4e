//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import NIOCore
import Synchronization

/// The HTTP clients of pinned deliveries (``DeliveryTarget/pinned(host:address:)``), one per host name and checked
/// address, kept so that the attempts to one receiver reuse its keep-alive connections.
///
/// Each client connects only to its address (`dnsOverride` maps the host name to that IP literal), so reusing it for an
/// attempt whose lookup gave the same address connects exactly where the network policy checked, as a new client
/// would; a lookup that gives another address gets another client. A client unused for ``idleTimeout`` is shut down,
/// and so are the least recently used idle ones beyond ``maxClients``.
final class PinnedClients: Sendable {
    private struct Key: Hashable {
        var host: String
        var address: IPAddress
    }

    private struct Entry {
        var client: HTTPClient
        var lastUsed: ContinuousClock.Instant
        var inUse: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var closed = false
    }

    /// How long an unused client (and its connections) is kept.
    static let idleTimeout: Duration = .seconds(60)
    /// The most clients kept; beyond it, idle ones are shut down, least recently used first.
    static let maxClients = 256

    private let eventLoopGroup: any EventLoopGroup
    private let configuration: HTTPClient.Configuration
    private let state = Mutex(State())

    /// - Parameters:
    ///   - eventLoopGroup: The event loops of the deliverer's shared client.
    ///   - configuration: The configuration of every pinned client, before its `dnsOverride`.
    init(eventLoopGroup: any EventLoopGroup, configuration: HTTPClient.Configuration) {
        self.eventLoopGroup = eventLoopGroup
        self.configuration = configuration
    }

    /// Runs `body` with the client that reaches `host` at `address` only.
    func withClient<T>(host: String, address: IPAddress, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let key = Key(host: host, address: address)
        let (client, retired) = try self.acquire(key)
        Self.shutDown(retired)
        defer { self.release(key) }
        return try await body(client)
    }

    /// Shuts every client down; later deliveries through this pool fail.
    func shutdown() async {
        let clients = self.state.withLock { state in
            state.closed = true
            defer { state.entries = [:] }
            return state.entries.values.map(\.client)
        }
        for client in clients {
            try? await client.shutdown()
        }
    }

    /// The number of clients kept now (for tests).
    var count: Int { self.state.withLock { $0.entries.count } }

    private func acquire(_ key: Key) throws -> (HTTPClient, [HTTPClient]) {
        let now = ContinuousClock.now
        return try self.state.withLock { state in
            guard !state.closed else { throw CancellationError() }
            let retired = Self.retire(from: &state, now: now, keeping: key)
            if var entry = state.entries[key] {
                entry.inUse += 1
                entry.lastUsed = now
                state.entries[key] = entry
                return (entry.client, retired)
            }
            var configuration = self.configuration
            configuration.dnsOverride = [key.host: key.address.description]
            let client = HTTPClient(eventLoopGroup: self.eventLoopGroup, configuration: configuration)
            state.entries[key] = Entry(client: client, lastUsed: now, inUse: 1)
            return (client, retired)
        }
    }

    private func release(_ key: Key) {
        let now = ContinuousClock.now
        self.state.withLock { state in
            guard var entry = state.entries[key] else { return }
            entry.inUse -= 1
            entry.lastUsed = now
            state.entries[key] = entry
        }
    }

    /// Removes the idle clients unused for ``idleTimeout``, and the least recently used idle ones while there are
    /// ``maxClients`` or more; returns them, to be shut down outside the lock.
    private static func retire(from state: inout State, now: ContinuousClock.Instant, keeping key: Key) -> [HTTPClient] {
        var retired: [HTTPClient] = []
        for (candidate, entry) in state.entries where candidate != key && entry.inUse == 0 && now - entry.lastUsed > Self.idleTimeout {
            retired.append(entry.client)
            state.entries[candidate] = nil
        }
        if state.entries.count >= Self.maxClients, state.entries[key] == nil {
            let idle = state.entries.filter { $0.value.inUse == 0 }.sorted { $0.value.lastUsed < $1.value.lastUsed }
            for (candidate, entry) in idle.prefix(state.entries.count - Self.maxClients + 1) {
                retired.append(entry.client)
                state.entries[candidate] = nil
            }
        }
        return retired
    }

    private static func shutDown(_ clients: [HTTPClient]) {
        guard !clients.isEmpty else { return }
        Task {
            for client in clients {
                try? await client.shutdown()
            }
        }
    }
}
