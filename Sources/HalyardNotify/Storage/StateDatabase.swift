//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import HalyardSync
import Metrics
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Halyard's durable state in one SQLite file: the applied commit, webhook subscriptions, the outbox of webhook
/// messages and the delivery log.
///
/// Keeping the applied commit and the outbox in the same database is what makes webhooks crash-proof:
/// ``recordApplied(_:changes:fetchedAt:)`` records a new commit and enqueues its messages in one
/// transaction, so after a crash either both happened or neither did (and the restarted service diffs again from the
/// commit it had applied). ``WebhookDeliverer`` removes a message only after the receiver acknowledged it.
///
/// The database uses WAL mode, so readers (status pages, the deliverer) never block the writer. All methods are
/// synchronous and safe to call from any thread or task.
///
/// ```swift
/// let database = try StateDatabase(path: ".halyard/state.sqlite")
/// try database.replaceStaticSubscriptions(config.subscriptions)
/// let enqueued = try database.recordApplied(state, changes: changes, fetchedAt: fetchedAt)
/// if enqueued > 0 { deliverer.wake() }
/// ```
public final class StateDatabase: Sendable {
    /// The path of the SQLite file.
    public let path: String
    let pool: DatabasePool
    let clock: any WebhookClock
    let pendingGauge: Gauge
    private let enqueueObservers = EnqueueObservers()
    /// The subscription and environment (``inFlightKey(subscriptionID:environment:)``) of each message the deliverer
    /// has claimed and not yet completed: being sent right now. Kept by the pending row's place rather than the message
    /// id, which coalescing replaces while the attempt goes on. A change that cancels such a message out must not drop
    /// it (``StateDatabase/enqueue(_:subscriptionIDs:now:fetchedAt:inFlight:in:)``).
    let inFlight = Mutex<Set<String>>([])

    /// The key of a pending message's place in ``inFlight``: one message per subscription and environment.
    static func inFlightKey(subscriptionID: String, environment: String) -> String {
        subscriptionID + "\u{0}" + environment
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - path: The SQLite file. Missing parent directories are created.
    ///   - clock: The source of "now" for enqueue and creation times; tests inject a manual clock.
    /// - Throws: ``NotifyError/Code/database`` when the file cannot be created, opened or migrated.
    public init(path: String, clock: any WebhookClock = SystemWebhookClock()) throws(NotifyError) {
        self.path = path
        self.clock = clock
        self.pendingGauge = Gauge(label: "halyard_webhook_pending")
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Self.makePrivate(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.foreignKeysEnabled = true
            configuration.prepareDatabase { db in
                // WAL with synchronous=NORMAL survives any process crash. A power loss can only lose the last
                // transactions as a whole, and the applied commit and its messages are always in the same one.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            self.pool = try DatabasePool(path: path, configuration: configuration)
            try Self.makePrivate(path)
            try Self.migrator.migrate(self.pool)
        } catch {
            throw .database(path, String(describing: error))
        }
        try self.refreshPendingGauge()
    }

    // MARK: - File modes

    /// The mode of the database and its `-wal` and `-shm` files: they hold every subscription's secret.
    static let fileMode: mode_t = 0o600

    /// Creates the database file with mode 0600 when it is missing, so that SQLite (which gives its journals the
    /// database's mode) never makes a readable one, and sets 0600 on the database, `-wal` and `-shm` files that exist.
    static func makePrivate(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw FileModeError(path: path, operation: "create", errorNumber: errno)
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & 0o777 != fileMode else { continue }
            guard chmod(file, fileMode) == 0 else {
                throw FileModeError(path: file, operation: "chmod 0600", errorNumber: errno)
            }
        }
    }

    /// A database file whose mode cannot be made private.
    struct FileModeError: Error, CustomStringConvertible {
        let path: String
        let operation: String
        let errorNumber: Int32
        var description: String { "cannot \(operation) \(path): \(String(cString: strerror(errorNumber)))" }
    }

    // MARK: - Applied state

    /// The commit applied last, or `nil` for a fresh service.
    public func appliedState() throws(NotifyError) -> AppliedState? {
        try self.read { db in
            guard
                let row = try Row.fetchOne(db, sql: "SELECT commit_sha, applied_at, last_change, overrides FROM applied_state WHERE id = 1")
            else {
                return nil
            }
            let lastChange = try JSONDecoder().decode([String: String].self, from: Data((row["last_change"] as String).utf8))
            let overrides = try JSONDecoder().decode([String].self, from: Data((row["overrides"] as String).utf8))
            return AppliedState(
                commit: row["commit_sha"],
                appliedAt: Date(timeIntervalSince1970: row["applied_at"]),
                lastChange: lastChange,
                overrides: overrides
            )
        }
    }

    static func saveAppliedState(_ state: AppliedState, in db: Database) throws {
        let lastChange = String(decoding: try JSONEncoder.sorted.encode(state.lastChange), as: UTF8.self)
        let overrides = String(decoding: try JSONEncoder.sorted.encode(state.overrides), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO applied_state (id, commit_sha, applied_at, last_change, overrides) VALUES (1, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET commit_sha = excluded.commit_sha, applied_at = excluded.applied_at,
                    last_change = excluded.last_change, overrides = excluded.overrides
                """,
            arguments: [state.commit, state.appliedAt.timeIntervalSince1970, lastChange, overrides]
        )
    }

    // MARK: - Enqueue observers

    /// Registers a closure called after messages were enqueued; ``WebhookDeliverer`` uses it to wake itself, so a
    /// caller that forgets ``WebhookDeliverer/wake()`` still gets its messages sent at once.
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

    func read<T>(_ body: (Database) throws -> T) throws(NotifyError) -> T {
        do {
            return try self.pool.read(body)
        } catch let error as NotifyError {
            throw error
        } catch {
            throw .database(self.path, String(describing: error))
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(NotifyError) -> T {
        do {
            return try self.pool.write(body)
        } catch let error as NotifyError {
            throw error
        } catch {
            throw .database(self.path, String(describing: error))
        }
    }

    /// Runs a write that changes the outbox, then refreshes `halyard_webhook_pending`.
    func writeOutbox<T>(_ body: (Database) throws -> T) throws(NotifyError) -> T {
        let (result, pending) = try self.write { db in
            let result = try body(db)
            return (result, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0)
        }
        self.pendingGauge.record(pending)
        return result
    }

    func refreshPendingGauge() throws(NotifyError) {
        self.pendingGauge.record(try self.pendingMessageCount())
    }

    // MARK: - Schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE applied_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        commit_sha TEXT NOT NULL,
                        applied_at REAL NOT NULL,
                        last_change TEXT NOT NULL
                    );
                    CREATE TABLE subscription (
                        id TEXT PRIMARY KEY NOT NULL,
                        url TEXT NOT NULL,
                        environments TEXT NOT NULL,
                        secret TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        is_static INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        message_id TEXT NOT NULL UNIQUE,
                        subscription_id TEXT NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
                        environment TEXT NOT NULL,
                        commit_sha TEXT NOT NULL,
                        change TEXT NOT NULL,
                        body BLOB NOT NULL,
                        enqueued_at REAL NOT NULL,
                        fetched_at REAL NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        UNIQUE (subscription_id, environment)
                    );
                    CREATE INDEX outbox_next_attempt ON outbox(next_attempt_at);
                    CREATE TABLE delivery_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        subscription_id TEXT NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
                        message_id TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        commit_sha TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        at REAL NOT NULL,
                        status INTEGER,
                        duration REAL NOT NULL,
                        error TEXT,
                        result TEXT NOT NULL
                    );
                    CREATE INDEX delivery_log_subscription ON delivery_log(subscription_id, id);
                    """
            )
        }
        migrator.registerMigration("v2-overrides", migrate: Self.migrateOverrides)
        return migrator
    }
}

extension Date {
    /// The date as stored (seconds since 1970 as a double), so a value returned to the caller equals the one read back.
    var storable: Date {
        Date(timeIntervalSince1970: self.timeIntervalSince1970)
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so stored JSON is deterministic.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
