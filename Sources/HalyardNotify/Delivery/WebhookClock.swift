//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// The wall clock that schedules webhook retries.
///
/// Retry times are stored in the database as dates, so the deliverer needs wall-clock time; this protocol is the seam
/// that lets tests run hours of backoff and the 24-hour maximum age instantly with a manual clock.
public protocol WebhookClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Suspends until `date` or until the task is cancelled (then it throws `CancellationError`).
    func sleep(until date: Date) async throws
}

/// The system's wall clock.
public struct SystemWebhookClock: WebhookClock {
    /// Creates the system clock.
    public init() {}

    /// The current time, `Date()`.
    public func now() -> Date { Date() }

    /// Sleeps with `Task.sleep` until `date`; a date in the past only checks for cancellation.
    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .seconds(seconds))
        } else {
            try Task.checkCancellation()
        }
    }
}
