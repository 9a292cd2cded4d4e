/// Exponential backoff with jitter: the one retry policy of Halyard.
///
/// The watcher retries a failing fetch, the deliverer a failing webhook and the client SDK a broken event stream;
/// all of them wait `min(maximum, initial × 2^(attempt−1))`, randomised so that many retrying parties do not act in
/// step. It lives here, with no I/O, because it is the one module all three import.
public struct Backoff: Sendable, Hashable {
    /// How the wait is randomised within its ceiling.
    public enum Jitter: Sendable, Hashable {
        /// Anywhere between zero and the ceiling: spreads retries the most (webhook deliveries).
        case full
        /// Between half the ceiling and the ceiling: spreads retries but never hammers (fetches, reconnects).
        case equal
    }

    /// The ceiling of the first retry.
    public var initial: Duration
    /// The largest ceiling.
    public var maximum: Duration
    /// How the wait is randomised.
    public var jitter: Jitter

    /// Creates a policy.
    public init(initial: Duration, maximum: Duration, jitter: Jitter) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The ceiling of retry number `attempt` (1 for the first retry): `min(maximum, initial × 2^(attempt−1))`.
    public func ceiling(attempt: Int) -> Duration {
        let doublings = min(max(attempt, 1) - 1, 62)
        let seconds = min(maximum.seconds, initial.seconds * Double(sign: .plus, exponent: doublings, significand: 1))
        return .seconds(seconds)
    }

    /// The wait before retry number `attempt`, for a `random` number in `0...1`.
    public func delay(attempt: Int, random: Double) -> Duration {
        let ceiling = self.ceiling(attempt: attempt).seconds
        let unit = min(max(random, 0), 1)
        switch jitter {
        case .full: return .seconds(unit * ceiling)
        case .equal: return .seconds(ceiling / 2 + unit * ceiling / 2)
        }
    }

    /// The wait before retry number `attempt`, randomised with the system's generator.
    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0...1))
    }
}
