//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import HalyardSync
import NIOCore
import Synchronization

/// The encoded `GET /v1/environments/{env}/flags` body of each environment at the served commit.
///
/// An environment can hold thousands of flags; encoding them on every 200 would dominate the route. The body only
/// depends on the commit and the environment, so it is built on the first request after a commit is applied and then
/// shared (a `ByteBuffer` copy is a reference-count bump).
final class FlagsBodyCache: Sendable {
    private struct Entry {
        let commit: String
        let digest: String
        let body: ByteBuffer
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The body for `environment` at `state.commit`, built if needed.
    func body(for environment: EnvironmentSnapshot, in state: ServedState) -> ByteBuffer {
        let commit = state.commit
        // The digest too: a break-glass override changes the flags at the same commit.
        if let entry = entries.withLock({ $0[environment.name] }), entry.commit == commit, entry.digest == environment.digest {
            return entry.body
        }
        let body = Self.encode(environment, commit: commit)
        entries.withLock { entries in
            entries[environment.name] = Entry(commit: commit, digest: environment.digest, body: body)
            // Forget environments the commit no longer has.
            if entries.count > state.snapshot.environments.count {
                entries = entries.filter { state.snapshot.environments[$0.key] != nil }
            }
        }
        return body
    }

    private static func encode(_ environment: EnvironmentSnapshot, commit: String) -> ByteBuffer {
        var json = JSONWriter(capacity: 64 + environment.flags.count * 256)
        json.objectStart()
        json.key("environment")
        json.string(environment.name)
        json.key("commit")
        json.string(commit)
        json.key("digest")
        json.string(environment.digest)
        json.key("flags")
        json.objectStart()
        for id in environment.sortedIDs {
            json.key(id)
            json.json(environment.flags[id]!.flag.normalizedJSON)
        }
        json.objectEnd()
        json.objectEnd()
        return json.byteBuffer
    }
}
