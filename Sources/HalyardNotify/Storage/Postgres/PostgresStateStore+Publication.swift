//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import HalyardSync
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// One publisher at a time, and shared triggers (DESIGN §10).
///
/// - The publisher lock is a session-level advisory lock (`pg_try_advisory_lock`) taken on a dedicated connection
///   (``PostgresPublisherSession``); the other replicas retry it on theirs. When the publisher dies, its connection and
///   so its lock go with it. Publication runs on that same connection, so a replica whose connection broke cannot
///   publish; a compare-and-set on the published commit (the one row of `halyard_applied_state`) guards the rest.
/// - `halyard_events` carries `NOTIFY`s between replicas: `refresh:<replica>` (a push hook or `/v1/refresh` reached
///   one replica: all fetch) and `outbox` (a publisher enqueued messages: every deliverer looks at the outbox).
extension PostgresStateStore: SharedPublicationStore {
    /// The channel of the replicas' notifications.
    static let eventsChannel = "halyard_events"

    /// Whether this replica holds the publisher lock, trying to take it when it does not (and reconnecting the lock's
    /// connection when it was lost).
    public func acquirePublisherLock() async throws -> Bool {
        do {
            // Nothing is published before the schema is known to be up to date (``prepare(staticSubscriptions:backoff:)``).
            try self.checkReady()
            let held = try await self.session.acquire()
            self.coordination.update { $0.reachable(publisher: held) }
            return held
        } catch {
            let error = self.databaseError(error)
            self.coordination.update { $0.unreachable(error.description) }
            throw error
        }
    }

    /// Writes the new published commit and its messages in one transaction on the lock's connection, provided the
    /// published commit is still `previous`; then every replica's deliverer is woken (`NOTIFY`, sent at commit).
    public func publish(
        _ state: AppliedState,
        replacing previous: String?,
        changes: [EnvironmentChange],
        fetchedAt: Date
    ) async throws -> PublicationResult {
        let now = self.clock.now()
        let lastChange = String(decoding: try Self.encoded(state.lastChange), as: UTF8.self)
        let overrides = String(decoding: try JSONEncoder.sorted.encode(state.overrides), as: UTF8.self)
        let result: (PublicationResult, Int)
        do {
            result = try await self.session.withLockConnection { connection -> (PublicationResult, Int) in
                try await connection.withTransaction(logger: self.logger) { connection -> (PublicationResult, Int) in
                    let current = try await connection.query(
                        "SELECT commit_sha FROM halyard_applied_state WHERE id = 1 FOR UPDATE",
                        logger: self.logger
                    ).collect().first?.decode(String.self)
                    guard current == previous else { return (PublicationResult.conflict(current: current), -1) }
                    if previous == nil {
                        let inserted = try await connection.query(
                            """
                            INSERT INTO halyard_applied_state (id, commit_sha, applied_at, last_change, overrides)
                            VALUES (1, \(state.commit), \(state.appliedAt.timeIntervalSince1970), \(lastChange), \(overrides))
                            ON CONFLICT (id) DO NOTHING RETURNING id
                            """,
                            logger: self.logger
                        ).collect()
                        // Another replica inserted the first row meanwhile: its commit stands.
                        guard !inserted.isEmpty else { return (PublicationResult.conflict(current: nil), -1) }
                    } else {
                        try await connection.query(
                            """
                            UPDATE halyard_applied_state SET commit_sha = \(state.commit),
                                applied_at = \(state.appliedAt.timeIntervalSince1970), last_change = \(lastChange),
                                overrides = \(overrides)
                            WHERE id = 1
                            """,
                            logger: self.logger
                        )
                    }
                    let enqueued = try await self.enqueue(changes, now: now, fetchedAt: fetchedAt, on: connection)
                    if enqueued > 0 {
                        try await connection.query("SELECT pg_notify(\(Self.eventsChannel), 'outbox')", logger: self.logger)
                    }
                    let pending = try await connection.query("SELECT COUNT(*) FROM halyard_outbox", logger: self.logger)
                        .collect().first?.decode(Int.self) ?? 0
                    return (PublicationResult.published(enqueued), pending)
                }
            }
        } catch {
            let error = self.databaseError(error)
            self.coordination.update { $0.unreachable(error.description) }
            throw error
        }
        switch result.0 {
        case .published(let enqueued):
            self.pendingGauge.record(result.1)
            self.coordination.update {
                $0.reachable(publisher: true)
                $0.health.publishedCommit = state.commit
            }
            if enqueued > 0 { self.notifyEnqueued() }
        case .conflict(let current):
            self.coordination.update { $0.health.publishedCommit = current }
        }
        return result.0
    }

    /// Sends `refresh:<replica>` on `halyard_events`; a failure is logged only (the others poll anyway).
    public func announceRefresh() async {
        do {
            try await self.run { connection in
                try await connection.query("SELECT pg_notify(\(Self.eventsChannel), \("refresh:" + self.replicaID))", logger: self.logger)
                return ()
            }
        } catch {
            self.logger.warning("cannot announce the refresh to the other replicas", metadata: ["error": "\(error)"])
        }
    }

    /// Listens on `halyard_events` on a dedicated connection until cancelled, reconnecting with backoff. After each
    /// (re)connection every replica fetches and looks at the outbox once, for what was announced while it was away.
    public func followSharedEvents(onRefresh: @escaping @Sendable () -> Void) async {
        let backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5), jitter: .equal)
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await Self.connect(location: self.postgres, password: self.password, id: 2, logger: self.logger)
                do {
                    try await self.listen(on: connection, onRefresh: onRefresh)
                    failures = 0
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                self.coordination.update { $0.listening = false }
            } catch {
                self.coordination.update { $0.listening = false }
                if Task.isCancelled { return }
                failures += 1
                self.logger.debug("the shared-events connection failed; reconnecting", metadata: ["error": "\(self.databaseError(error))"])
            }
            try? await Task.sleep(for: backoff.delay(attempt: max(1, failures)))
        }
    }

    /// Dispatches the notifications of `halyard_events` until the connection ends or the task is cancelled.
    private func listen(on connection: PostgresConnection, onRefresh: @escaping @Sendable () -> Void) async throws {
        try await connection.listen(on: Self.eventsChannel) { notifications in
            self.coordination.update { $0.listening = true }
            onRefresh()
            self.notifyEnqueued()
            for try await notification in notifications {
                if notification.payload == "outbox" {
                    self.notifyEnqueued()
                } else if notification.payload.hasPrefix("refresh:"), notification.payload != "refresh:" + self.replicaID {
                    onRefresh()
                } else if notification.payload.hasPrefix("overrides:"), notification.payload != "overrides:" + self.replicaID {
                    // Another replica created or ended an override: the next cycle reloads and re-applies them.
                    onRefresh()
                }
            }
        }
    }

    /// This replica's view of the store, for `/v1/status`.
    public var health: SharedStateHealth {
        self.coordination.health
    }

    /// Opens a connection of its own (outside the pool), failing after 5 s when the server does not answer.
    static func connect(location: PostgresLocation, password: String?, id: Int, logger: Logger) async throws -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: password,
            database: location.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(5)
        return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
    }
}

/// The connection that holds (or tries to take) the publisher lock, and on which the publisher publishes.
///
/// Every exchange has a deadline: when the server stops answering, the connection is closed, which fails the exchange,
/// and the next ``acquire()`` connects again.
actor PostgresPublisherSession {
    /// The key of the publisher lock ("halypub" in ASCII, as a number).
    static let lockKey: Int64 = 0x68_61_6C_79_70_75_62

    private let connect: @Sendable () async throws -> PostgresConnection
    private let logger: Logger
    private let deadline: Duration
    private var connection: PostgresConnection?
    private var held = false

    init(deadline: Duration = .seconds(10), logger: Logger, connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.connect = connect
        self.logger = logger
        self.deadline = deadline
    }

    /// Whether the lock is held: checks the connection answers (the lock lives as long as it does), connecting and
    /// trying the lock when it is not held.
    func acquire() async throws -> Bool {
        if let connection, connection.isClosed {
            self.drop()
        }
        if self.connection == nil {
            self.connection = try await self.connect()
        }
        let held = self.held
        let taken = try await self.withLockConnection(requiringLock: false) { connection in
            if held {
                _ = try await connection.query("SELECT 1", logger: self.logger).collect()
                return true
            }
            return try await connection.query("SELECT pg_try_advisory_lock(\(Self.lockKey))", logger: self.logger)
                .collect().first?.decode(Bool.self) ?? false
        }
        if taken, !self.held {
            self.logger.notice("this replica is now the publisher")
        }
        self.held = taken
        return taken
    }

    /// Runs `body` on the lock's connection; it must hold the lock.
    func withLockConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await self.withLockConnection(requiringLock: true, body)
    }

    private func withLockConnection<T: Sendable>(
        requiringLock: Bool,
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard let connection, !connection.isClosed, self.held || !requiringLock else {
            self.drop()
            throw PublisherLockLost()
        }
        // Closes the connection when the server does not answer in time, which fails `body`.
        let deadline = self.deadline
        let watchdog = Task {
            try await Task.sleep(for: deadline)
            try? await connection.close()
        }
        defer { watchdog.cancel() }
        do {
            return try await body(connection)
        } catch {
            if connection.isClosed { self.drop() }
            throw error
        }
    }

    /// Closes the connection, and so gives the lock up.
    func close() {
        self.drop()
    }

    private func drop() {
        if self.held {
            self.logger.warning("the publisher lock's connection is gone; this replica is no longer the publisher")
        }
        if let connection {
            // Held until closed: a connection must not be released open.
            Task { try? await connection.close() }
        }
        self.connection = nil
        self.held = false
    }
}

/// The publisher lock's connection was lost: this replica no longer publishes until it takes the lock again.
struct PublisherLockLost: Error, CustomStringConvertible {
    var description: String { "the publisher lock's connection was lost" }
}

/// What this replica knows of the shared store (``SharedStateHealth``), and the gauges that show it.
final class CoordinationHealth: Sendable {
    struct State {
        var health = SharedStateHealth(kind: "postgresql", reachable: true)
        var listening = false

        mutating func reachable(publisher: Bool) {
            self.health.reachable = true
            self.health.lastError = nil
            self.health.publisher = publisher
        }

        /// Reachable, the publisher role left as it is.
        mutating func reachableAgain() {
            self.health.reachable = true
            self.health.lastError = nil
        }

        mutating func unreachable(_ error: String) {
            self.health.reachable = false
            self.health.lastError = error
            self.health.publisher = false
        }
    }

    private let state = Mutex(State())
    private let up = Gauge(label: "halyard_state_store_up")
    private let publisher = Gauge(label: "halyard_publisher")

    init() {
        self.up.record(1)
        self.publisher.record(0)
    }

    var health: SharedStateHealth { self.state.withLock { $0.health } }

    func update(_ change: (inout State) -> Void) {
        let health = self.state.withLock { state in
            change(&state)
            return state.health
        }
        self.up.record(health.reachable ? 1 : 0)
        self.publisher.record(health.publisher ? 1 : 0)
    }
}
