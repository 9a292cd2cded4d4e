//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import GRDB
import HalyardSync

/// Break-glass overrides in SQLite (DESIGN §14): one row per override, kept after it ends for the audit list. A partial
/// unique index lets at most one override per environment and flag be open.
extension StateDatabase: OverrideStore {
    /// The `v2-overrides` migration: the `flag_override` table and the overrides published with the applied commit.
    static func migrateOverrides(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE applied_state ADD COLUMN overrides TEXT NOT NULL DEFAULT '[]';
                CREATE TABLE flag_override (
                    id TEXT PRIMARY KEY NOT NULL,
                    environment TEXT NOT NULL,
                    flag TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    base_commit TEXT NOT NULL,
                    base_fingerprint TEXT NOT NULL,
                    ended_at REAL,
                    end_reason TEXT
                );
                CREATE UNIQUE INDEX flag_override_open ON flag_override(environment, flag) WHERE ended_at IS NULL;
                CREATE INDEX flag_override_created ON flag_override(created_at);
                """
        )
    }

    /// Stores a new override unless the flag has an open one; returns that one then.
    public func createOverride(_ override: FlagOverride) async throws -> FlagOverride? {
        try self.write { db -> FlagOverride? in
            if let open = try Row.fetchOne(
                db,
                sql: "SELECT * FROM flag_override WHERE environment = ? AND flag = ? AND ended_at IS NULL",
                arguments: [override.environment, override.flag]
            ) {
                return try Self.override(open)
            }
            try db.execute(
                sql: """
                    INSERT INTO flag_override (id, environment, flag, kind, value, reason, created_at, expires_at, base_commit,
                        base_fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    override.id, override.environment, override.flag, override.setting.kind, override.setting.storedValue,
                    override.reason, override.createdAt.timeIntervalSince1970, override.expiresAt.timeIntervalSince1970,
                    override.baseCommit, override.baseFingerprint,
                ]
            )
            return nil
        }
    }

    /// Ends an override once; a second call keeps the first end.
    public func endOverride(id: String, reason: String, at date: Date) async throws -> FlagOverride? {
        try self.write { db -> FlagOverride? in
            try db.execute(
                sql: "UPDATE flag_override SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
                arguments: [date.timeIntervalSince1970, reason, id]
            )
            return try Row.fetchOne(db, sql: "SELECT * FROM flag_override WHERE id = ?", arguments: [id]).map(Self.override)
        }
    }

    /// The overrides not yet ended, oldest first.
    public func openOverrides() async throws -> [FlagOverride] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM flag_override WHERE ended_at IS NULL ORDER BY created_at, id").map(Self.override)
        }
    }

    /// Every override, newest first.
    public func allOverrides(limit: Int) async throws -> [FlagOverride] {
        try self.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM flag_override ORDER BY created_at DESC, id LIMIT ?", arguments: [limit]).map(Self.override)
        }
    }

    /// The overrides with these ids.
    public func overrides(ids: [String]) async throws -> [FlagOverride] {
        guard !ids.isEmpty else { return [] }
        return try self.read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: "SELECT * FROM flag_override WHERE id IN (\(marks))", arguments: StatementArguments(ids)).map(
                Self.override
            )
        }
    }

    /// One process: nobody to tell.
    public func announceOverridesChanged() async {}

    static func override(_ row: Row) throws -> FlagOverride {
        let kind: String = row["kind"]
        let value: String = row["value"]
        guard let setting = FlagOverride.Setting(kind: kind, storedValue: value) else {
            throw NotifyError.database("flag_override", "override \(row["id"] as String) has an unknown setting \(kind)=\(value)")
        }
        return FlagOverride(
            id: row["id"],
            environment: row["environment"],
            flag: row["flag"],
            setting: setting,
            reason: row["reason"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
            baseCommit: row["base_commit"],
            baseFingerprint: row["base_fingerprint"],
            endedAt: (row["ended_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            endReason: row["end_reason"]
        )
    }
}
