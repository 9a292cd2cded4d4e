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

/// Halyard's state in PostgreSQL, shared by several replicas (DESIGN §10): the applied commit, subscriptions, the
/// outbox and the delivery log, with the same behaviour as the SQLite ``StateDatabase``.
///
/// - The applied commit and the messages of its changes are written in one transaction, coalescing as SQLite does.
/// - A message is claimed with `FOR UPDATE SKIP LOCKED` and a lease: no other replica claims it, nor another message of
///   its subscription, until the lease expires; a replica that died mid-delivery loses its claim when the lease expires
///   and another sends the message again, with the same `webhook-id`.
/// - The schema is created and upgraded at start-up (``migrate()``) under a transaction-level advisory lock, so
///   replicas started together on an empty database do not race; `halyard_schema_version` holds the version.
///
/// Times are stored as seconds since 1970 (`double precision`), from the injected ``WebhookClock``, exactly as SQLite
/// stores them; replicas' clocks should agree to within a fraction of a lease.
///
/// ```swift
/// let store = try await PostgresStateStore.open(location: PostgresLocation(url: "postgres://halyard@db:5432/halyard"),
///                                               password: password, logger: logger)
/// defer { store.close() }
/// ```
public final class PostgresStateStore: StateStore {
    /// Where the store connects.
    public let postgres: PostgresLocation
    let client: PostgresClient
    let clock: any WebhookClock
    let logger: Logger
    let pendingGauge: Gauge
    let password: String?
    private let runner: Task<Void, Never>
    private let enqueueObservers = EnqueueObservers()
    /// The connection of the publisher lock (DESIGN §10), made on first use.
    let session: PostgresPublisherSession
    /// This replica's view of the shared store, for `/v1/status` and the metrics.
    let coordination = CoordinationHealth()
    /// Tells this replica's own `NOTIFY`s from the others'.
    let replicaID = RandomID.make(prefix: "replica_", length: 12)
    /// Whether the schema was found up to date once; until then every read and write fails at once with
    /// ``NotifyError/Code/unavailable`` rather than waiting for a server that may be down (DESIGN §10).
    private let readiness = Mutex<Readiness>(Readiness())

    /// Creates the store and starts its connection pool; nothing is read or written until ``migrate()``.
    ///
    /// - Parameters:
    ///   - location: The server, user and database.
    ///   - password: The user's password (`state.passwordFile`, `HALYARD_STATE_PASSWORD`); `nil` for trust or peer
    ///     authentication.
    ///   - clock: The source of "now" for enqueue, claim and creation times; tests inject a manual clock.
    ///   - maximumConnections: The most connections this replica opens.
    ///   - logger: Where the pool logs its background problems.
    public init(
        location: PostgresLocation,
        password: String?,
        clock: any WebhookClock = SystemWebhookClock(),
        maximumConnections: Int = 10,
        logger: Logger
    ) {
        self.postgres = location
        self.password = password
        self.clock = clock
        self.logger = logger
        self.pendingGauge = Gauge(label: "halyard_webhook_pending")
        let tls: PostgresClient.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: password,
            database: location.database,
            tls: tls
        )
        configuration.options.maximumConnections = max(2, maximumConnections)
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
        self.session = PostgresPublisherSession(logger: logger) {
            try await Self.connect(location: location, password: password, id: 1, logger: logger)
        }
    }

    /// Creates the store and brings the schema up to date (``migrate()``).
    ///
    /// - Throws: ``NotifyError/Code/database`` when the server cannot be reached or the schema cannot be migrated; the
    ///   pool is closed then.
    public static func open(
        location: PostgresLocation,
        password: String?,
        clock: any WebhookClock = SystemWebhookClock(),
        logger: Logger
    ) async throws(NotifyError) -> PostgresStateStore {
        let store = PostgresStateStore(location: location, password: password, clock: clock, logger: logger)
        do {
            try await store.migrate()
        } catch {
            store.close()
            throw error
        }
        return store
    }

    /// Closes the connection pool and the publisher lock's connection; the store cannot be used afterwards.
    public func close() {
        self.runner.cancel()
        // The publisher lock goes with its connection.
        let session = self.session
        Task { await session.close() }
    }

    /// The URL of the database, without password.
    public var location: String { self.postgres.description }

    // MARK: - Schema

    /// Creates or upgrades the schema, under `pg_advisory_xact_lock` so that replicas starting together run the
    /// migrations one after the other (the later ones find the schema up to date); then refreshes the pending gauge.
    ///
    /// - Throws: ``NotifyError/Code/database`` with the server's own message when it cannot be reached, refuses the
    ///   user or has no such database (one connection is tried first: the pool would retry forever).
    public func migrate() async throws(NotifyError) {
        try await self.migrate(connectTimeout: .seconds(10))
    }

    /// ``migrate()``, whose first connection may take `connectTimeout`.
    func migrate(connectTimeout: Duration) async throws(NotifyError) {
        do throws(NotifyError) {
            try await self.probe(connectTimeout: connectTimeout)
            try await self.migrateSchema()
        } catch {
            self.readiness.withLock { $0.lastError = error }
            throw error
        }
        self.readiness.withLock {
            $0.migrated = true
            $0.lastError = nil
        }
        self.pendingGauge.record(try await self.pendingMessageCount())
    }

    /// Brings the store into use once the server can be reached: migrates the schema (``migrate()``) and stores the
    /// static subscriptions, retrying with `backoff` until both succeed or the task is cancelled. Meanwhile the store
    /// answers ``NotifyError/Code/unavailable`` at once, and `/v1/status` shows the reason (DESIGN §10: a replica
    /// started while PostgreSQL is down serves from git and stays ready).
    ///
    /// - Throws: ``NotifyError/Code/database`` when the server answers but refuses the configuration: an unknown user,
    ///   a wrong password, or no such database; the error of a static subscription the store refuses. Retrying would
    ///   not help.
    public func prepare(staticSubscriptions: [StaticSubscription], backoff: Backoff) async throws(NotifyError) {
        var failures = 0
        while !Task.isCancelled {
            if try await self.prepareOnce(staticSubscriptions: staticSubscriptions) { return }
            failures += 1
            try? await Task.sleep(for: backoff.delay(attempt: failures))
        }
    }

    /// One attempt of ``prepare(staticSubscriptions:backoff:)``: whether the store is now in use. A failure is shown
    /// in the status and logged (a warning the first time, then at debug level); success after a failure is logged.
    ///
    /// - Parameter connectTimeout: How long the first connection may take; start-up tries once with a short one.
    /// - Throws: As ``prepare(staticSubscriptions:backoff:)``, only what retrying would not mend.
    public func prepareOnce(staticSubscriptions: [StaticSubscription], connectTimeout: Duration = .seconds(10)) async throws(NotifyError) -> Bool {
        do throws(NotifyError) {
            try await self.migrate(connectTimeout: connectTimeout)
            try await self.replaceStaticSubscriptions(staticSubscriptions)
            self.coordination.update { $0.reachableAgain() }
            if self.readiness.withLock({ $0.reportedFailure }) {
                self.logger.notice("PostgreSQL reached; the shared state is in use", metadata: ["database": "\(self.location)"])
            }
            return true
        } catch {
            if error.isClientError || Self.refusesConfiguration(error) { throw error }
            self.coordination.update { $0.unreachable(error.reason) }
            let first = self.readiness.withLock { readiness in
                defer { readiness.reportedFailure = true }
                return !readiness.reportedFailure
            }
            if first {
                self.logger.warning(
                    "PostgreSQL cannot be reached; serving from git, and trying again",
                    metadata: ["database": "\(self.location)", "error": "\(error.reason)"]
                )
            } else {
                self.logger.debug("PostgreSQL still cannot be reached", metadata: ["error": "\(error.reason)"])
            }
            return false
        }
    }

    /// The SQLSTATEs of a server that answers but refuses the configuration: invalid authorization, a wrong password,
    /// no such database.
    private static let configurationRefusals = ["28000", "28P01", "3D000"]

    /// Whether `error` is the server refusing the user or the database (as ``databaseError(_:)`` words it).
    static func refusesConfiguration(_ error: NotifyError) -> Bool {
        error.code == .database && Self.configurationRefusals.contains { error.message.hasSuffix("(SQLSTATE \($0))") }
    }

    /// Runs the migrations the database lacks, in one transaction under the migration lock.
    private func migrateSchema() async throws(NotifyError) {
        try await self.transaction(gated: false) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS halyard_schema_version (version bigint NOT NULL)",
                logger: self.logger
            )
            var version = 0
            for try await (stored) in try await connection.query("SELECT version FROM halyard_schema_version", logger: self.logger)
                .decode(Int.self)
            {
                version = max(version, stored)
            }
            guard version < PostgresSchema.migrations.count else { return }
            for statements in PostgresSchema.migrations.dropFirst(version) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
            }
            try await connection.query("DELETE FROM halyard_schema_version", logger: self.logger)
            try await connection.query(
                "INSERT INTO halyard_schema_version (version) VALUES (\(PostgresSchema.migrations.count))",
                logger: self.logger
            )
            self.logger.info(
                "PostgreSQL state schema migrated",
                metadata: ["database": "\(self.location)", "from": "\(version)", "to": "\(PostgresSchema.migrations.count)"]
            )
        }
    }

    /// Connects once, outside the pool, and fails with the reason when that is impossible.
    private func probe(connectTimeout: Duration) async throws(NotifyError) {
        do {
            let tls: PostgresConnection.Configuration.TLS
            switch self.postgres.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            var configuration = PostgresConnection.Configuration(
                host: self.postgres.host,
                port: self.postgres.port,
                username: self.postgres.user,
                password: self.password,
                database: self.postgres.database,
                tls: tls
            )
            configuration.options.connectTimeout = TimeAmount(connectTimeout)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: self.logger)
            try? await connection.close()
        } catch {
            throw self.databaseError(error)
        }
    }

    /// The schema version stored in the database (0 before the first migration).
    public func schemaVersion() async throws(NotifyError) -> Int {
        try await self.run(gated: false) { connection in
            let exists = try await connection.query("SELECT to_regclass('halyard_schema_version') IS NOT NULL", logger: self.logger)
                .collect().first?.decode(Bool.self) ?? false
            guard exists else { return 0 }
            return try await connection.query("SELECT COALESCE(MAX(version), 0) FROM halyard_schema_version", logger: self.logger)
                .collect().first?.decode(Int.self) ?? 0
        }
    }

    // MARK: - Applied state

    /// The commit applied last, or `nil` for a fresh service.
    public func appliedState() async throws(NotifyError) -> AppliedState? {
        try await self.run { connection in
            let rows = try await connection.query(
                "SELECT commit_sha, applied_at, last_change, overrides FROM halyard_applied_state WHERE id = 1",
                logger: self.logger
            )
            for try await (commit, appliedAt, lastChange, overrides) in rows.decode((String, Double, String, String).self) {
                return AppliedState(
                    commit: commit,
                    appliedAt: Date(timeIntervalSince1970: appliedAt),
                    lastChange: try JSONDecoder().decode([String: String].self, from: Data(lastChange.utf8)),
                    overrides: try JSONDecoder().decode([String].self, from: Data(overrides.utf8))
                )
            }
            return nil
        }
    }

    // MARK: - Enqueue observers

    /// Registers a closure called after this instance enqueued messages (``WebhookDeliverer`` wakes itself with it).
    public func addEnqueueObserver(_ observer: @escaping @Sendable () -> Void) -> Int {
        self.enqueueObservers.add(observer)
    }

    /// Removes an observer registered with ``addEnqueueObserver(_:)``.
    public func removeEnqueueObserver(_ token: Int) {
        self.enqueueObservers.remove(token)
    }

    func notifyEnqueued() {
        self.enqueueObservers.notify()
    }

    // MARK: - Access helpers

    /// Runs `body` on a pooled connection, mapping every error but a ``NotifyError`` to ``NotifyError/Code/database``.
    ///
    /// - Parameter gated: Whether to fail at once with ``NotifyError/Code/unavailable`` while the schema has never been
    ///   found up to date (the server may be down: the pool would wait for it).
    func run<T: Sendable>(gated: Bool = true, _ body: (PostgresConnection) async throws -> T) async throws(NotifyError) -> T {
        if gated { try self.checkReady() }
        do {
            return try await self.client.withConnection { connection in try await body(connection) }
        } catch {
            throw self.databaseError(error)
        }
    }

    /// Runs `body` in a transaction (rolled back when it throws), mapping errors as ``run(gated:_:)`` does.
    func transaction<T: Sendable>(gated: Bool = true, _ body: (PostgresConnection) async throws -> T) async throws(NotifyError) -> T {
        if gated { try self.checkReady() }
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in try await body(connection) }
        } catch {
            throw self.databaseError(error)
        }
    }

    /// Runs a transaction that changes the outbox, then refreshes `halyard_webhook_pending`.
    func transactionOnOutbox<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(NotifyError) -> T {
        let (result, pending) = try await self.transaction { connection in
            let result = try await body(connection)
            let pending = try await connection.query("SELECT COUNT(*) FROM halyard_outbox", logger: self.logger)
                .collect().first?.decode(Int.self) ?? 0
            return (result, pending)
        }
        self.pendingGauge.record(pending)
        return result
    }

    /// Throws ``NotifyError/Code/unavailable``, with the reason of the last failed attempt, until ``migrate()`` has
    /// succeeded once.
    func checkReady() throws(NotifyError) {
        let (migrated, lastError) = self.readiness.withLock { ($0.migrated, $0.lastError) }
        guard !migrated else { return }
        throw .unavailable(self.location, lastError.map { "not reached yet: \($0.reason)" } ?? "not reached yet")
    }

    /// Whether the schema has been found up to date once, so the store is in use.
    public var isReady: Bool {
        self.readiness.withLock { $0.migrated }
    }

    func databaseError(_ error: any Error) -> NotifyError {
        if let error = error as? NotifyError { return error }
        if let error = error as? PostgresTransactionError {
            if let closure = error.closureError { return self.databaseError(closure) }
            if let begin = error.beginError { return self.databaseError(begin) }
            if let commit = error.commitError { return self.databaseError(commit) }
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return .database(self.location, message + code)
            }
            if let underlying = error.underlying {
                return .database(self.location, "\(error.code): \(underlying)")
            }
            return .database(self.location, "\(error.code)")
        }
        return .database(self.location, String(describing: error))
    }
}

/// Whether a ``PostgresStateStore`` has been brought up once, and why not yet.
private struct Readiness {
    var migrated = false
    var lastError: NotifyError?
    /// Whether a failure to reach the server was logged as a warning already.
    var reportedFailure = false
}

/// The PostgreSQL schema, one list of statements per version.
enum PostgresSchema {
    /// The key of the advisory lock the migrations run under ("halyard" in ASCII, as a number).
    static let migrationLockKey: Int64 = 0x68_61_6C_79_61_72_64

    /// The key of the advisory lock under which replicas replace the static subscriptions.
    static let staticSubscriptionsLockKey: Int64 = 0x68_61_6C_79_61_72_65

    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE halyard_applied_state (
                id integer PRIMARY KEY CHECK (id = 1),
                commit_sha text NOT NULL,
                applied_at double precision NOT NULL,
                last_change text NOT NULL
            )
            """,
            """
            CREATE TABLE halyard_subscription (
                id text PRIMARY KEY,
                url text NOT NULL,
                environments text NOT NULL,
                secret text NOT NULL,
                created_at double precision NOT NULL,
                disabled boolean NOT NULL DEFAULT false,
                is_static boolean NOT NULL DEFAULT false
            )
            """,
            """
            CREATE TABLE halyard_outbox (
                id bigserial PRIMARY KEY,
                message_id text NOT NULL UNIQUE,
                subscription_id text NOT NULL REFERENCES halyard_subscription(id) ON DELETE CASCADE,
                environment text NOT NULL,
                commit_sha text NOT NULL,
                change text NOT NULL,
                body bytea NOT NULL,
                enqueued_at double precision NOT NULL,
                fetched_at double precision NOT NULL,
                attempts bigint NOT NULL DEFAULT 0,
                next_attempt_at double precision NOT NULL,
                claim text,
                claimed_until double precision,
                UNIQUE (subscription_id, environment)
            )
            """,
            "CREATE INDEX halyard_outbox_next_attempt ON halyard_outbox (next_attempt_at)",
            "CREATE INDEX halyard_outbox_claim ON halyard_outbox (claim)",
            """
            CREATE TABLE halyard_delivery_log (
                id bigserial PRIMARY KEY,
                subscription_id text NOT NULL REFERENCES halyard_subscription(id) ON DELETE CASCADE,
                message_id text NOT NULL,
                environment text NOT NULL,
                commit_sha text NOT NULL,
                attempt bigint NOT NULL,
                at double precision NOT NULL,
                status bigint,
                duration double precision NOT NULL,
                error text,
                result text NOT NULL
            )
            """,
            "CREATE INDEX halyard_delivery_log_subscription ON halyard_delivery_log (subscription_id, id)",
        ],
        PostgresStateStore.overridesMigration,
    ]
}
