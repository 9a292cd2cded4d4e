//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Synchronization

/// Writes the outcomes of delivery attempts to the outbox in groups, one transaction per group.
///
/// Every finished attempt must be recorded before its subscription may be sent the next message, and with hundreds of
/// subscribers finishing within milliseconds of each other, one transaction per attempt makes the store's single
/// writer the bottleneck of a fan-out. So while one group is being written, the attempts that finish meanwhile wait
/// together and are written as the next group. Each caller still learns whether its own outcome was stored, and the
/// completions are applied in the order they arrived.
final class CompletionQueue: Sendable {
    private typealias Waiter = CheckedContinuation<Result<Void, NotifyError>, Never>

    private struct State {
        var waiting: [(completion: OutboxCompletion, waiter: Waiter)] = []
        var writing = false
    }

    private let store: any OutboxStore
    private let state = Mutex(State())

    init(store: any OutboxStore) {
        self.store = store
    }

    /// Stores `completion` with the group being formed; returns once that group is written.
    ///
    /// It is not cancellable: an attempt that was sent is recorded even while the deliverer shuts down.
    func complete(_ completion: OutboxCompletion) async throws(NotifyError) {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let startsWriter = self.state.withLock { state in
                state.waiting.append((completion, waiter))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startsWriter {
                Task { await self.writeGroups() }
            }
        }
        try result.get()
    }

    /// Writes the waiting completions, group after group, until none waits.
    private func writeGroups() async {
        while true {
            let group = self.state.withLock { state in
                let group = state.waiting
                state.waiting = []
                if group.isEmpty { state.writing = false }
                return group
            }
            guard !group.isEmpty else { return }
            let result: Result<Void, NotifyError>
            do throws(NotifyError) {
                try await self.store.complete(group.map { $0.completion })
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for entry in group {
                entry.waiter.resume(returning: result)
            }
        }
    }
}
