import HalyardRules
import Testing

/// The one retry policy that the watcher, the deliverer and the client share.
struct BackoffTests {
    @Test func theCeilingDoublesUpToTheMaximum() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(10), jitter: .full)
        #expect((1...6).map { backoff.ceiling(attempt: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(backoff.ceiling(attempt: 0) == .seconds(1))
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(10))
    }

    @Test func fullJitterSpansZeroToTheCeiling() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(60), jitter: .full)
        #expect(backoff.delay(attempt: 3, random: 0) == .zero)
        #expect(backoff.delay(attempt: 3, random: 0.5) == .seconds(2))
        #expect(backoff.delay(attempt: 3, random: 1) == .seconds(4))
    }

    @Test func equalJitterNeverGoesBelowHalfTheCeiling() {
        let backoff = Backoff(initial: .seconds(2), maximum: .seconds(60), jitter: .equal)
        #expect(backoff.delay(attempt: 2, random: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 2, random: 1) == .seconds(4))
        for _ in 0..<100 {
            let delay = backoff.delay(attempt: 2)
            #expect(delay >= .seconds(2) && delay <= .seconds(4))
        }
    }
}
