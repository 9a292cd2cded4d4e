//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardSync
import Synchronization

/// Something derived from each environment of the served state and kept until that environment changes: the encoded
/// `GET …/flags` body, the pre-encoded bulk answers (``EncodedEnvironment``).
///
/// An environment can hold thousands of flags; deriving such things on every request would dominate the route. They
/// depend only on the environment's flags and the served commit, so each is built on the first request that needs it
/// and then shared until the commit or the environment's digest changes (the digest covers every flag, so flags that
/// change without a new commit, such as an override, are not served stale).
final class EnvironmentCache<Value: Sendable>: Sendable {
    private struct Entry {
        let commit: String
        let digest: String
        let value: Value
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The value for `environment` at `state.commit`, built with `build(environment, commit)` if needed.
    ///
    /// Two requests that miss at once may both build; either result is kept, and both are equal.
    func value(
        for environment: EnvironmentSnapshot,
        in state: ServedState,
        build: (EnvironmentSnapshot, String) -> Value
    ) -> Value {
        let commit = state.commit
        if let entry = entries.withLock({ $0[environment.name] }), entry.commit == commit, entry.digest == environment.digest {
            return entry.value
        }
        let value = build(environment, commit)
        entries.withLock { entries in
            entries[environment.name] = Entry(commit: commit, digest: environment.digest, value: value)
            // Forget environments the commit no longer has.
            if entries.count > state.snapshot.environments.count {
                entries = entries.filter { state.snapshot.environments[$0.key] != nil }
            }
        }
        return value
    }
}
