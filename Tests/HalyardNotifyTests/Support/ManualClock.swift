//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import Synchronization

/// A wall clock that moves only when the test says so, to run hours of retries instantly.
final class ManualClock: WebhookClock {
    private struct Sleeper {
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var sleepers: [UUID: Sleeper] = [:]
    }

    private let state: Mutex<State>

    init(now: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        self.state = Mutex(State(now: now))
    }

    func now() -> Date {
        self.state.withLock { $0.now }
    }

    /// The number of tasks sleeping on this clock.
    var sleeperCount: Int {
        self.state.withLock { $0.sleepers.count }
    }

    func sleep(until date: Date) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = self.state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if date <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: date, continuation: continuation)
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            let sleeper = self.state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `date` and wakes the sleepers whose time has come.
    func advance(to date: Date) {
        let woken = self.state.withLock { state -> [Sleeper] in
            state.now = max(state.now, date)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys {
                state.sleepers.removeValue(forKey: id)
            }
            return Array(due.values)
        }
        for sleeper in woken {
            sleeper.continuation.resume()
        }
    }

    func advance(by seconds: TimeInterval) {
        self.advance(to: self.now().addingTimeInterval(seconds))
    }
}
