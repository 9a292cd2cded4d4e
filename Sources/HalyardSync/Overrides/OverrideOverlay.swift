//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// Serves overrides on top of a committed snapshot: a pure function from a snapshot and overrides to the snapshot with
/// those flags replaced.
///
/// The overridden flag is exactly what parsing the patched flag file gives (`GET /v1/overrides/{id}/patch`), so its
/// fingerprints equal those of the commit that makes the override permanent: that commit then changes nothing served.
/// The environments are rebuilt incrementally, so digests and ETags follow.
public enum OverrideOverlay {
    /// `snapshot` with each override's flag replaced; an override whose environment or flag is missing, or whose
    /// variant the flag does not have, is left out.
    public static func apply(_ snapshot: Snapshot, _ overrides: [FlagOverride]) -> Snapshot {
        guard !overrides.isEmpty else { return snapshot }
        var environments = snapshot.environments
        let byEnvironment = Dictionary(grouping: overrides, by: \.environment)
        for (name, overrides) in byEnvironment {
            guard let environment = environments[name] else { continue }
            var replaced: [String: LoadedFlag] = [:]
            for override in overrides {
                guard let loaded = environment.flags[override.flag], let flag = overridden(loaded.flag, override.setting) else { continue }
                replaced[override.flag] = LoadedFlag(flag: flag, file: loaded.file, blobID: nil)
            }
            if !replaced.isEmpty, let updated = environment.updated(removing: [], adding: replaced) {
                environments[name] = updated
            }
        }
        return Snapshot(
            commit: snapshot.commit,
            flagsDirectory: snapshot.flagsDirectory,
            environments: environments,
            files: snapshot.files
        )
    }

    /// The committed `flag` with `setting` applied; nil for a variant setting on a boolean flag or an unknown variant.
    public static func overridden(_ flag: Flag, _ setting: FlagOverride.Setting) -> Flag? {
        switch setting {
        case .active(let active):
            return Flag(
                id: flag.id,
                name: flag.name,
                description: flag.description,
                active: active,
                targeting: flag.targeting,
                metadata: flag.metadata
            )
        case .variant(let name):
            guard case .typed(let variants, _, _) = flag.targeting, variants[name] != nil else { return nil }
            return Flag(
                id: flag.id,
                name: flag.name,
                description: flag.description,
                active: true,
                targeting: .typed(variants: variants, defaultVariant: name, groups: []),
                metadata: flag.metadata
            )
        }
    }
}
