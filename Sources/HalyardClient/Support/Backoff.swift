//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// The reconnect attempts of the event stream: counts failures and asks Halyard's one ``Backoff`` policy how long to
/// wait, with equal jitter (between half the ceiling and the ceiling), so clients cut off by the same restart do not
/// all come back in the same millisecond.
struct ReconnectBackoff: Sendable {
    let policy: Backoff
    private(set) var failures = 0

    init(_ range: ClosedRange<Duration>) {
        policy = Backoff(initial: range.lowerBound, maximum: range.upperBound, jitter: .equal)
    }

    /// The wait before the next attempt; counts one more failure.
    mutating func next() -> Duration {
        failures += 1
        return policy.delay(attempt: failures)
    }

    /// The stream is up again.
    mutating func reset() {
        failures = 0
    }
}
