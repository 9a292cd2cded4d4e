//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Runs at most one flag fetch at a time, and merges the refreshes asked for meanwhile into one more fetch.
///
/// A caller that arrives while a fetch runs cannot use that fetch (it may have been sent before the change the caller
/// heard of), so it waits for the next one; every caller that arrives before that next fetch starts shares it. A burst
/// of refresh calls thus costs two fetches at most.
actor RefreshCoalescer {
    private let operation: @Sendable () async -> Void
    /// The fetch that runs or ran last.
    private var running: Task<Void, Never>?
    /// The fetch that waits for ``running`` to end, shared by every caller that arrives before it starts.
    private var pending: (generation: Int, task: Task<Void, Never>)?
    private var generation = 0

    init(_ operation: @escaping @Sendable () async -> Void) {
        self.operation = operation
    }

    /// Returns after a fetch that started after this call.
    func refresh() async {
        if let pending {
            pendingCallers += 1
            await pending.task.value
            return
        }
        generation += 1
        let generation = generation
        let previous = running
        let operation = operation
        // The task is isolated to the actor, so it cannot mark itself started before `pending` names it.
        let task = Task {
            await previous?.value
            self.started(generation)
            await operation()
        }
        pending = (generation, task)
        pendingCallers = 1
        await task.value
    }

    /// How many callers wait for the fetch that has not started yet (for tests).
    private(set) var pendingCallers = 0

    private func started(_ generation: Int) {
        guard let pending, pending.generation == generation else { return }
        running = pending.task
        self.pending = nil
        pendingCallers = 0
    }
}
