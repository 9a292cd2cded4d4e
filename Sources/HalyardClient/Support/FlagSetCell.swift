//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Synchronization

/// The client's current flag set, replaced whole.
///
/// Evaluations read the reference under a `Mutex` held only for the copy of one pointer, so a reader never waits for
/// a fetch, a decode or a cache write: those happen before ``replace(_:)`` and outside the lock.
final class FlagSetCell: Sendable {
    private let current: Mutex<FlagSet?>

    init(_ initial: FlagSet?) {
        current = Mutex(initial)
    }

    /// The flag set now, or `nil` before the first one.
    @inline(__always)
    var value: FlagSet? { current.withLock { $0 } }

    /// Swaps in `set` and returns the one it replaces.
    func replace(_ set: FlagSet) -> FlagSet? {
        current.withLock { current in
            let old = current
            current = set
            return old
        }
    }
}

/// Fans ``FlagChange``s out to every live ``HalyardClient/changes`` sequence.
final class ChangeBroadcaster: Sendable {
    private struct State {
        var next = 0
        var continuations: [Int: AsyncStream<FlagChange>.Continuation] = [:]
    }

    private let state = Mutex(State())

    /// A new sequence of the changes from now on; it keeps the newest 64 when its reader falls behind.
    func subscribe() -> AsyncStream<FlagChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: FlagChange.self, bufferingPolicy: .bufferingNewest(64))
        let key = state.withLock { state in
            let key = state.next
            state.next += 1
            state.continuations[key] = continuation
            return key
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: key) }
        }
        return stream
    }

    func yield(_ change: FlagChange) {
        for continuation in state.withLock({ Array($0.continuations.values) }) {
            continuation.yield(change)
        }
    }

    func finish() {
        let all = state.withLock { state in
            let all = Array(state.continuations.values)
            state.continuations = [:]
            return all
        }
        for continuation in all { continuation.finish() }
    }
}

/// Lets tasks wait until the client has a flag set.
final class ReadySignal: Sendable {
    private struct State {
        var isReady = false
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isReady: Bool { state.withLock { $0.isReady } }

    func markReady() {
        let waiters = state.withLock { state in
            state.isReady = true
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ready, or when the task is cancelled.
    func wait() async {
        let key = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isReady || Task.isCancelled { return true }
                    state.waiters[key] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume()
        }
    }
}
