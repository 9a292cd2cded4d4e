//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardTesting
import Synchronization
import Testing

@testable import HalyardNotify

/// The two implementations of ``StateStore`` that one suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }
}

/// One store location (a SQLite file, or a PostgreSQL database of its own), from which a test opens as many store
/// instances as it likes: a second instance is a restarted service, or another replica.
final class StoreHarness: Sendable {
    let kind: StoreKind
    let clock: ManualClock
    private let sqlitePath: String
    private let postgres: PostgresTestDatabase?
    private let opened = Mutex<[PostgresStateStore]>([])

    private init(kind: StoreKind, clock: ManualClock, postgres: PostgresTestDatabase?) {
        self.kind = kind
        self.clock = clock
        self.sqlitePath = Fixtures.databasePath()
        self.postgres = postgres
    }

    /// Runs `body` with a fresh location of `kind`, and removes it afterwards.
    static func with<T>(
        _ kind: StoreKind,
        clock: ManualClock = ManualClock(now: Date(timeIntervalSince1970: 1_795_003_200)),
        _ body: (StoreHarness) async throws -> T
    ) async throws -> T {
        switch kind {
        case .sqlite:
            return try await body(StoreHarness(kind: kind, clock: clock, postgres: nil))
        case .postgres:
            return try await PostgresTestServer.withDatabase { database in
                let harness = StoreHarness(kind: kind, clock: clock, postgres: database)
                defer { harness.closeAll() }
                return try await body(harness)
            }
        }
    }

    /// Opens a new store instance on this location (migrating its schema).
    func open() async throws -> any StateStore {
        switch self.kind {
        case .sqlite:
            return try StateDatabase(path: self.sqlitePath, clock: self.clock)
        case .postgres:
            let store = try await PostgresStateStore.open(location: try self.location(), password: nil, clock: self.clock, logger: Fixtures.logger)
            self.opened.withLock { $0.append(store) }
            return store
        }
    }

    /// A PostgreSQL store instance that has not migrated yet (for the concurrent-migration test).
    func unmigratedPostgres() throws -> PostgresStateStore {
        let store = PostgresStateStore(location: try self.location(), password: nil, clock: self.clock, logger: Fixtures.logger)
        self.opened.withLock { $0.append(store) }
        return store
    }

    private func location() throws -> PostgresLocation {
        try PostgresLocation(url: try #require(self.postgres).url + "?sslmode=disable")
    }

    private func closeAll() {
        for store in self.opened.withLock({ $0 }) {
            store.close()
        }
    }
}
