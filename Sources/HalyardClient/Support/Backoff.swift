//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// Exponential backoff with jitter for reconnecting the event stream.
///
/// Attempt `n` waits `min(first · 2ⁿ, largest)` plus a random part of up to half of that, so clients cut off by the
/// same restart do not all come back in the same millisecond.
struct Backoff: Sendable {
    let range: ClosedRange<Duration>
    private(set) var failures = 0

    init(_ range: ClosedRange<Duration>) {
        self.range = range
    }

    /// The wait before the next attempt; counts one more failure.
    mutating func next() -> Duration {
        let exponent = min(failures, 30)
        failures += 1
        let base = min(range.lowerBound * (1 << exponent), range.upperBound)
        let jitter = base * Double.random(in: 0...0.5)
        return base + jitter
    }

    /// The stream is up again.
    mutating func reset() {
        failures = 0
    }
}
