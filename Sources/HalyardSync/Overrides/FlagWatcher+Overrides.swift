//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardGit
import HalyardRules
import Logging
import Metrics
import Synchronization

/// What the watcher serves under and on top of the served snapshot.
struct OverrideServing: Sendable {
    /// The served commit's snapshot as committed, without overrides: the next commit is loaded from it.
    var base: Snapshot?
    /// The overrides served on top of it, in effect.
    var inEffect: [FlagOverride] = []
    /// When the served commit was last fetched as the tip (for publication to a shared store).
    var fetchedAt: Date?
    /// The open overrides as last read from the store: applies read this, never the store, so that a state store that
    /// is down (PostgreSQL) never delays serving. `nil` until the first read.
    var open: [FlagOverride]?
}

/// Break-glass overrides (DESIGN §14): created and ended through the HTTP API, served at once on top of the served
/// commit, published like a change, and ended by expiry or by a commit that changes their flag.
///
/// Everything works from the local repository and the state store, so it works while the git remote is down.
extension FlagWatcher {
    /// The overrides served now, oldest first.
    public var overridesInEffect: [FlagOverride] {
        overrideState.withLock { $0.inEffect }
    }

    /// Whether the state store keeps overrides (both of Halyard's stores do).
    public var supportsOverrides: Bool { overrideStore != nil }

    /// Creates an override of one flag, serves it at once and publishes it.
    ///
    /// - Parameters:
    ///   - environment: The environment.
    ///   - flag: The flag id.
    ///   - setting: What to serve: `active`, or a typed flag's variant for everybody.
    ///   - reason: Why (1…500 characters), kept for the audit list.
    ///   - expiresIn: How long it lasts, at most 7 days.
    /// - Returns: The override as stored.
    /// - Throws: ``OverrideError``: 400 for an unknown environment or flag (of the request body), a setting the flag
    ///   cannot take or a bad reason, 409 when the flag already has one.
    public func createOverride(
        environment: String,
        flag: String,
        setting: FlagOverride.Setting,
        reason: String,
        expiresIn: OverrideDuration
    ) async throws -> FlagOverride {
        let overrideStore = try requireStore()
        guard (1...500).contains(reason.count), !reason.allSatisfy(\.isWhitespace) else {
            throw OverrideError(.badRequest, "reason must be a non-empty string of at most 500 characters: say why the flag is overridden")
        }
        guard let base = overrideState.withLock({ $0.base }), let commit = base.commit else {
            throw OverrideError(.notReady, "no flags loaded yet: the first commit has not been applied")
        }
        guard let loadedEnvironment = base.environments[environment] else {
            throw OverrideError(
                .badRequest,
                "unknown environment \"\(environment)\"; the served commit has \(base.environmentNames.joined(separator: ", "))"
            )
        }
        guard let loaded = loadedEnvironment.flags[flag] else {
            throw OverrideError(.badRequest, "unknown flag \"\(flag)\" in environment \"\(environment)\" at the served commit")
        }
        if case .variant(let name) = setting {
            guard case .typed(let variants, _, _) = loaded.flag.targeting else {
                throw OverrideError(.badRequest, "\(environment)/\(flag) is a boolean flag: override it with active, not variant")
            }
            guard variants[name] != nil else {
                throw OverrideError(
                    .badRequest,
                    "\(environment)/\(flag) has no variant \"\(name)\"; its variants are \(variants.names.joined(separator: ", "))"
                )
            }
        }
        let now = Date()
        let override = FlagOverride(
            environment: environment,
            flag: flag,
            setting: setting,
            reason: reason,
            createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(expiresIn.seconds)),
            baseCommit: commit,
            baseFingerprint: loaded.targetingFingerprint
        )
        let existing: FlagOverride?
        do {
            existing = try await overrideStore.createOverride(override)
        } catch {
            throw storeError(error)
        }
        if let existing {
            throw OverrideError(.conflict, "\(environment)/\(flag) already has an override in effect: \(existing.id); end it first")
        }
        logger.notice(
            "override created",
            metadata: [
                "override": "\(override.id)", "environment": "\(environment)", "flag": "\(flag)",
                "setting": "\(setting.kind)=\(setting.storedValue)", "reason": "\(reason)", "expiresAt": "\(override.expiresAt)",
            ]
        )
        await overridesChanged()
        return override
    }

    /// Ends an override early (`deleted`) and publishes the flag as committed again.
    ///
    /// - Throws: ``OverrideError``: 404 for an unknown id, 409 when it has already ended.
    public func endOverride(id: String) async throws -> FlagOverride {
        let overrideStore = try requireStore()
        guard let current = try await self.override(id: id) else {
            throw OverrideError(.notFound, "override \"\(id)\" not found")
        }
        if let endedAt = current.endedAt {
            throw OverrideError(.conflict, "override \"\(id)\" already ended at \(endedAt) (\(current.endReason ?? "ended"))")
        }
        let ended: FlagOverride?
        do {
            ended = try await overrideStore.endOverride(id: id, reason: OverrideEnd.deleted, at: Date())
        } catch {
            throw storeError(error)
        }
        logEnd(ended ?? current, reason: OverrideEnd.deleted)
        await overridesChanged()
        return ended ?? current
    }

    /// One override, ended or not; nil when no override has this id.
    public func override(id: String) async throws -> FlagOverride? {
        let overrideStore = try requireStore()
        do {
            return try await overrideStore.overrides(ids: [id]).first
        } catch {
            throw storeError(error)
        }
    }

    /// Every override, ended ones included, newest first (the audit list).
    public func allOverrides(limit: Int = 1_000) async throws -> [FlagOverride] {
        let overrideStore = try requireStore()
        do {
            return try await overrideStore.allOverrides(limit: limit)
        } catch {
            throw storeError(error)
        }
    }

    /// The change to the flag file, at the served commit, that makes the override permanent.
    ///
    /// - Throws: ``OverrideError``: 404 when the override or its flag is unknown at the served commit.
    public func patch(for override: FlagOverride) async throws -> FlagFilePatch {
        guard let base = overrideState.withLock({ $0.base }) else {
            throw OverrideError(.notReady, "no flags loaded yet: the first commit has not been applied")
        }
        guard let loaded = base.environments[override.environment]?.flags[override.flag], let blobID = loaded.blobID,
            let bytes = await worker.blob(blobID)
        else {
            throw OverrideError(.notFound, "\(override.flagKey) is not in the served commit \(base.commit ?? "")")
        }
        guard let patch = FlagFilePatch(path: loaded.file, text: String(decoding: bytes, as: UTF8.self), setting: override.setting) else {
            throw OverrideError(.badRequest, "cannot write the override into \(loaded.file): its top level is not the expected JSON object")
        }
        return patch
    }

    /// Re-applies the served commit with the overrides in effect now (one was created or ended, here or on another
    /// replica), then tells the other replicas.
    public func overridesChanged() async {
        await reloadOverrides()
        await reapplyOverridesNow()
        await overrideStore?.announceOverridesChanged()
    }

    /// Re-applies the served commit with the overrides in effect now: serves and publishes any difference.
    public func reapplyOverridesNow() async {
        await gate.run { await self.reapplyOverrides(fetchedAt: nil) }
    }

    // MARK: - Internals

    /// Serves the served commit again with the overrides in effect now; call inside `gate`.
    func reapplyOverrides(fetchedAt: Date?) async {
        guard overrideStore != nil, let served = store.current, let base = overrideState.withLock({ $0.base }) else { return }
        let fetched = fetchedAt ?? overrideState.withLock { $0.fetchedAt } ?? served.appliedAt
        await serve(base: base, served: served, fetchedAt: fetched)
        if fetchedAt == nil, let commit = base.commit, let tip = ObjectID(hex: commit) {
            // A shared store publishes a candidate it is offered: the same commit with other overrides.
            offerForPublication(fetchedAt: fetched, tip: tip)
        }
    }

    /// The open overrides that stay in effect on `base`; ends the expired ones, and on a new commit those whose flag
    /// it changed or removed.
    func overridesInEffect(on base: Snapshot, newCommit: Bool) async -> [FlagOverride] {
        guard let overrideStore else { return [] }
        let open = overrideState.withLock { $0.open ?? $0.inEffect }
        let now = Date()
        let commit = base.commit ?? ""
        var inEffect: [FlagOverride] = []
        for override in open {
            let loaded = base.environments[override.environment]?.flags[override.flag]
            let end: String?
            if override.expiresAt <= now {
                end = OverrideEnd.expired
            } else if let loaded, loaded.targetingFingerprint == override.baseFingerprint,
                OverrideOverlay.overridden(loaded.flag, override.setting) != nil
            {
                end = nil
            } else if newCommit {
                end = OverrideEnd.commit(commit)
            } else {
                // Not for this commit (another replica created it on a newer one): not served here, not ended.
                continue
            }
            guard let end else {
                inEffect.append(override)
                continue
            }
            overrideState.withLock { $0.open?.removeAll { $0.id == override.id } }
            let persistEnd = { @Sendable in
                do {
                    let ended = try await overrideStore.endOverride(id: override.id, reason: end, at: now)
                    if ended?.endReason == end { self.logEnd(ended ?? override, reason: end) }
                } catch {
                    // Still open in the store: the next reload finds it again, and it is ended again then.
                    self.logger.warning("cannot end the override now", metadata: ["override": "\(override.id)", "error": "\(error)"])
                }
            }
            // A local store is written in line; a shared one (PostgreSQL, which may be down) apart from serving.
            if isSharedStore {
                Task { await persistEnd() }
            } else {
                await persistEnd()
            }
        }
        return inEffect
    }

    /// Reads the open overrides from the store into the cache; true when they differ from the cached ones. A store
    /// that cannot be read leaves the cache as it is.
    @discardableResult
    func reloadOverrides() async -> Bool {
        guard let overrideStore else { return false }
        // One read at a time, so that an older read never overwrites a newer one.
        return await reloadGate.run {
            do {
                let open = try await overrideStore.openOverrides()
                return self.overrideState.withLock { state in
                    defer { state.open = open }
                    return state.open != open
                }
            } catch {
                self.logger.warning("cannot read the overrides; serving those known", metadata: ["error": "\(error)"])
                return false
            }
        }
    }

    /// Reloads the overrides whenever asked (every poll, an announcement of another replica) and re-applies them when
    /// they changed, until cancelled; apart from the fetch loop, so a state store that is down delays nothing.
    func runOverrideReload() async {
        while !Task.isCancelled {
            if await reloadOverrides() {
                await reapplyOverridesNow()
            }
            await reloadSignal.wait(timeout: .seconds(30))
        }
    }

    /// The overrides persisted with the applied commit, as they were when it was published (ended or not since); also
    /// reads the open ones into the cache.
    func persistedOverrides(_ ids: [String]) async -> [FlagOverride] {
        await reloadOverrides()
        guard let overrideStore, !ids.isEmpty else { return [] }
        do {
            let found = try await overrideStore.overrides(ids: ids)
            return ids.compactMap { id in found.first { $0.id == id } }
        } catch {
            logger.error("cannot read the persisted overrides", metadata: ["error": "\(error)"])
            return []
        }
    }

    /// Ends expired overrides when their time comes, until cancelled.
    func runExpiry() async {
        while !Task.isCancelled {
            let next = overrideState.withLock { $0.inEffect.map(\.expiresAt).min() }
            if let next, next <= Date() {
                await reapplyOverridesNow()
                // An override that cannot be ended (store down) is retried, not spun on.
                if let again = overrideState.withLock({ $0.inEffect.map(\.expiresAt).min() }), again <= Date() {
                    await expirySignal.wait(timeout: .seconds(1))
                }
                continue
            }
            let wait = next.map { max(0.001, $0.timeIntervalSinceNow) } ?? 3_600
            await expirySignal.wait(timeout: .milliseconds(Int64((wait * 1_000).rounded(.up)) + 1))
        }
    }

    /// `halyard_overrides_active{environment}`: the overrides in effect per environment.
    func recordOverrideGauges(_ overrides: [FlagOverride], in snapshot: Snapshot) {
        guard overrideStore != nil else { return }
        var counts = Dictionary(uniqueKeysWithValues: snapshot.environments.keys.map { ($0, 0) })
        for override in overrides { counts[override.environment, default: 0] += 1 }
        for (environment, count) in counts {
            Gauge(label: "halyard_overrides_active", dimensions: [("environment", environment)]).record(count)
        }
    }

    private func logEnd(_ override: FlagOverride, reason: String) {
        logger.notice(
            "override ended",
            metadata: [
                "override": "\(override.id)", "environment": "\(override.environment)", "flag": "\(override.flag)",
                "end": "\(reason)", "reason": "\(override.reason)",
            ]
        )
    }

    private func requireStore() throws(OverrideError) -> any OverrideStore {
        guard let overrideStore else { throw OverrideError(.store, "this state store does not keep overrides") }
        return overrideStore
    }

    private func storeError(_ error: any Error) -> OverrideError {
        logger.error("the state store failed on an override", metadata: ["error": "\(error)"])
        return OverrideError(.store, "the state store failed; see the server log")
    }
}
