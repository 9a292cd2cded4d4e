//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Synchronization

/// The push-hook delivery ids (GitHub `X-GitHub-Delivery`, GitLab `X-Gitlab-Event-UUID`) seen in the last hour, so that
/// a replayed hook is acknowledged without another fetch (DESIGN §13).
///
/// Memory is bounded: at most ``capacity`` ids are kept, the oldest dropped first, and ids older than ``window`` are
/// forgotten. Only hooks whose signature checked out are recorded, so nobody without the secret can fill it.
final class RecentHookDeliveries: Sendable {
    /// How long an id is remembered.
    let window: Duration
    /// How many ids are remembered at most.
    let capacity: Int
    /// The longest id remembered; a longer one is not deduplicated (GitHub's and GitLab's are 36-character UUIDs).
    static let maximumIDLength = 200

    private struct State {
        var seenAt: [String: ContinuousClock.Instant] = [:]
        /// Every remembered id in the order it was first seen; entries before `head` are gone.
        var order: [(id: String, at: ContinuousClock.Instant)] = []
        var head = 0

        mutating func dropOldest() {
            seenAt[order[head].id] = nil
            head += 1
        }
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> ContinuousClock.Instant

    /// Creates an empty record.
    ///
    /// - Parameters:
    ///   - window: How long an id is remembered (an hour).
    ///   - capacity: How many ids are remembered at most (10,000).
    ///   - now: The clock; tests move it by hand.
    init(
        window: Duration = .seconds(3600),
        capacity: Int = 10_000,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.window = window
        self.capacity = max(1, capacity)
        self.now = now
    }

    /// Records `id` and tells whether this is its first sighting within the window; false for a replay.
    func isFirstSighting(of id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= Self.maximumIDLength else { return true }
        let now = self.now()
        return state.withLock { state in
            while state.head < state.order.count, now - state.order[state.head].at >= window {
                state.dropOldest()
            }
            guard state.seenAt[id] == nil else { return false }
            state.seenAt[id] = now
            state.order.append((id, now))
            while state.seenAt.count > capacity {
                state.dropOldest()
            }
            if state.head >= 1024, state.head * 2 >= state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            return true
        }
    }

    /// How many ids are remembered now.
    var count: Int { state.withLock { $0.seenAt.count } }
}
