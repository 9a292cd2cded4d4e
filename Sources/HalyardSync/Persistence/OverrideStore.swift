//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Where break-glass overrides (``FlagOverride``) are kept: the state store, SQLite or PostgreSQL, so they survive
/// restarts and are shared by replicas (DESIGN §14).
///
/// Ended overrides stay, with their end, for the audit list. At most one override per environment and flag is open
/// (not ended) at a time; the store enforces it, so two replicas cannot both create one.
///
/// `HalyardNotify` implements it next to ``AppliedStateStore``; the watcher finds it by a cast on its database.
public protocol OverrideStore: Sendable {
    /// Stores a new override, unless another open one exists for the same environment and flag.
    ///
    /// - Returns: `nil` when stored, or the open override that is in the way.
    /// - Throws: When the store cannot be written.
    func createOverride(_ override: FlagOverride) async throws -> FlagOverride?

    /// Ends an override, once: a second call keeps the first end. Returns the override as it is now (ended), or nil
    /// when no override has this id.
    ///
    /// - Throws: When the store cannot be written.
    func endOverride(id: String, reason: String, at date: Date) async throws -> FlagOverride?

    /// The overrides not yet ended (some may be past their expiry), oldest first.
    func openOverrides() async throws -> [FlagOverride]

    /// Every override, ended ones included, newest first, at most `limit`.
    func allOverrides(limit: Int) async throws -> [FlagOverride]

    /// The overrides with these ids, ended or not.
    func overrides(ids: [String]) async throws -> [FlagOverride]

    /// Tells the other replicas that the overrides changed, so they reload them (a no-op with one process).
    func announceOverridesChanged() async
}
