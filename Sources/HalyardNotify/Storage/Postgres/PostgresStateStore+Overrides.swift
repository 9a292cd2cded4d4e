//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import PostgresNIO

/// Break-glass overrides in PostgreSQL, shared by every replica (DESIGN §14): one row per override, kept after it ends
/// for the audit list; a partial unique index lets at most one override per environment and flag be open. A change is
/// announced on `halyard_events` as `overrides:<replica>`, and the other replicas reload and re-apply.
extension PostgresStateStore: OverrideStore {
    /// The migration that adds overrides: their table and the overrides published with the published commit.
    static let overridesMigration: [String] = [
        "ALTER TABLE halyard_applied_state ADD COLUMN overrides text NOT NULL DEFAULT '[]'",
        """
        CREATE TABLE halyard_override (
            id text PRIMARY KEY,
            environment text NOT NULL,
            flag text NOT NULL,
            kind text NOT NULL,
            value text NOT NULL,
            reason text NOT NULL,
            created_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            base_commit text NOT NULL,
            base_fingerprint text NOT NULL,
            ended_at double precision,
            end_reason text
        )
        """,
        "CREATE UNIQUE INDEX halyard_override_open ON halyard_override (environment, flag) WHERE ended_at IS NULL",
        "CREATE INDEX halyard_override_created ON halyard_override (created_at)",
    ]

    private static let columns =
        "id, environment, flag, kind, value, reason, created_at, expires_at, base_commit, base_fingerprint, ended_at, end_reason"

    /// Stores a new override unless the flag has an open one (on any replica); returns that one then.
    public func createOverride(_ override: FlagOverride) async throws -> FlagOverride? {
        try await self.run { connection -> FlagOverride? in
            let inserted = try await connection.query(
                """
                INSERT INTO halyard_override (id, environment, flag, kind, value, reason, created_at, expires_at, base_commit,
                    base_fingerprint)
                VALUES (\(override.id), \(override.environment), \(override.flag), \(override.setting.kind),
                    \(override.setting.storedValue), \(override.reason), \(override.createdAt.timeIntervalSince1970),
                    \(override.expiresAt.timeIntervalSince1970), \(override.baseCommit), \(override.baseFingerprint))
                ON CONFLICT (environment, flag) WHERE ended_at IS NULL DO NOTHING RETURNING id
                """,
                logger: self.logger
            ).collect()
            guard inserted.isEmpty else { return nil }
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM halyard_override
                WHERE environment = \(override.environment) AND flag = \(override.flag) AND ended_at IS NULL
                """,
                logger: self.logger
            )
            return try await Self.overrides(rows).first
        }
    }

    /// Ends an override once; a second call keeps the first end.
    public func endOverride(id: String, reason: String, at date: Date) async throws -> FlagOverride? {
        try await self.run { connection -> FlagOverride? in
            try await connection.query(
                "UPDATE halyard_override SET ended_at = \(date.timeIntervalSince1970), end_reason = \(reason) WHERE id = \(id) AND ended_at IS NULL",
                logger: self.logger
            )
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM halyard_override WHERE id = \(id)",
                logger: self.logger
            )
            return try await Self.overrides(rows).first
        }
    }

    /// The overrides not yet ended, oldest first.
    public func openOverrides() async throws -> [FlagOverride] {
        try await self.run { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM halyard_override WHERE ended_at IS NULL ORDER BY created_at, id",
                logger: self.logger
            )
            return try await Self.overrides(rows)
        }
    }

    /// Every override, newest first.
    public func allOverrides(limit: Int) async throws -> [FlagOverride] {
        try await self.run { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM halyard_override ORDER BY created_at DESC, id LIMIT \(max(0, limit))",
                logger: self.logger
            )
            return try await Self.overrides(rows)
        }
    }

    /// The overrides with these ids.
    public func overrides(ids: [String]) async throws -> [FlagOverride] {
        guard !ids.isEmpty else { return [] }
        return try await self.run { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM halyard_override WHERE id = ANY(\(ids))",
                logger: self.logger
            )
            return try await Self.overrides(rows)
        }
    }

    /// Sends `overrides:<replica>` on `halyard_events`; the others re-apply (they also reload at every poll).
    public func announceOverridesChanged() async {
        do {
            try await self.run { connection in
                try await connection.query(
                    "SELECT pg_notify(\(Self.eventsChannel), \("overrides:" + self.replicaID))",
                    logger: self.logger
                )
                return ()
            }
        } catch {
            self.logger.warning("cannot announce the overrides to the other replicas", metadata: ["error": "\(error)"])
        }
    }

    private static func overrides(_ rows: PostgresRowSequence) async throws -> [FlagOverride] {
        var result: [FlagOverride] = []
        for try await (id, environment, flag, kind, value, reason, createdAt, expiresAt, baseCommit, baseFingerprint, endedAt, endReason)
            in rows.decode((String, String, String, String, String, String, Double, Double, String, String, Double?, String?).self)
        {
            guard let setting = FlagOverride.Setting(kind: kind, storedValue: value) else {
                throw NotifyError.database("halyard_override", "override \(id) has an unknown setting \(kind)=\(value)")
            }
            result.append(
                FlagOverride(
                    id: id,
                    environment: environment,
                    flag: flag,
                    setting: setting,
                    reason: reason,
                    createdAt: Date(timeIntervalSince1970: createdAt),
                    expiresAt: Date(timeIntervalSince1970: expiresAt),
                    baseCommit: baseCommit,
                    baseFingerprint: baseFingerprint,
                    endedAt: endedAt.map(Date.init(timeIntervalSince1970:)),
                    endReason: endReason
                )
            )
        }
        return result
    }
}
