import HalyardGit
import Synchronization

/// Answers SSE catch-up questions ("what changed since commit X?") cheaply, whatever the number of clients (DESIGN §13).
///
/// Results are cached by (historic commit, served commit) in a least-recently-used cache bounded by entry count and
/// by the number of flag ids held. Concurrent requests for the same commit share one build. Builds run on a
/// ``HistoricChangeReader``, never on the git worker, one at a time; when too many distinct commits are already
/// waiting to be built, the answer is nil ("unknown commit"), so the client is told every flag changed rather than
/// queued behind an attacker's commits.
final class CatchUpCache: Sendable {
    /// The bounds of the cache and of the build queue.
    struct Limits: Sendable {
        /// At most this many results are kept.
        var entries = 256
        /// At most this many flag ids (over all cached change sets) are kept.
        var flagIDs = 200_000
        /// At most this many distinct commits wait for (or are in) a build.
        var pendingBuilds = 64
    }

    private struct Key: Hashable {
        let old: String
        let served: String
    }

    private struct Entry {
        let changes: ChangeSet?
        let weight: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var weight = 0
        var clock: UInt64 = 0
        var inFlight: [Key: Task<ChangeSet?, Never>] = [:]
        var builds = 0
    }

    private let reader: HistoricChangeReader
    private let limits: Limits
    private let state = Mutex(State())

    init(reader: HistoricChangeReader, limits: Limits = Limits()) {
        self.reader = reader
        self.limits = limits
    }

    /// How many builds ran so far (cache misses that were not shared).
    var buildCount: Int { state.withLock { $0.builds } }

    /// The number of cached results.
    var count: Int { state.withLock { $0.entries.count } }

    /// The change set from `commit` to `served`, or nil when the commit is unknown (or the build queue is full).
    func changes(since commit: String, to served: Snapshot) async -> ChangeSet? {
        guard let servedCommit = served.commit, let old = ObjectID(hex: commit) else { return nil }
        let key = Key(old: old.hex, served: servedCommit)
        enum Step {
            case cached(ChangeSet?)
            case wait(Task<ChangeSet?, Never>)
            case overloaded
        }
        let step = state.withLock { state -> Step in
            state.clock += 1
            if let entry = state.entries[key] {
                state.entries[key]?.lastUse = state.clock
                return .cached(entry.changes)
            }
            if let task = state.inFlight[key] { return .wait(task) }
            guard state.inFlight.count < limits.pendingBuilds else { return .overloaded }
            state.builds += 1
            let task = Task { [reader] in
                let changes = await reader.changes(from: old, to: served)
                self.store(changes, for: key)
                return changes
            }
            state.inFlight[key] = task
            return .wait(task)
        }
        switch step {
        case .cached(let changes): return changes
        case .wait(let task): return await task.value
        case .overloaded: return nil
        }
    }

    private func store(_ changes: ChangeSet?, for key: Key) {
        let weight = 1 + (changes?.environments.values.reduce(0) { $0 + $1.idCount } ?? 0)
        state.withLock { state in
            state.inFlight[key] = nil
            guard weight <= limits.flagIDs else { return }
            state.clock += 1
            state.entries[key] = Entry(changes: changes, weight: weight, lastUse: state.clock)
            state.weight += weight
            while state.entries.count > limits.entries || state.weight > limits.flagIDs {
                guard let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
                state.entries[oldest.key] = nil
                state.weight -= oldest.value.weight
            }
        }
    }
}

extension EnvironmentChangeSet {
    /// The number of flag ids listed, a measure of the memory it holds.
    var idCount: Int { added.count + removed.count + changed.count + metadataChanged.count }
}
