import HalyardRules
import Metrics
import ServiceLifecycle

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Keeps `halyard_flags_stale{environment}` true while no commit arrives (DESIGN §14).
///
/// The watcher records the gauge whenever it serves a snapshot, but a flag also becomes stale when the clock passes its
/// `metadata.expires`, with no commit at all. This service records the gauge again at the next expiry date of the
/// served flags, and at least every `interval` (hourly by default). It looks for a newly served commit every
/// `checkInterval`, so that an expiry that a new commit brings closer is not missed.
///
/// ```swift
/// let gauge = StaleGauge(store: store)
/// // add `gauge` to the service group beside the watcher
/// ```
public struct StaleGauge: Service {
    private let store: FlagStore
    private let interval: Duration
    private let checkInterval: Duration

    /// Creates the service over the flags `store` serves.
    public init(store: FlagStore, interval: Duration = .seconds(3600), checkInterval: Duration = .seconds(10)) {
        self.store = store
        self.interval = interval
        self.checkInterval = checkInterval
    }

    /// Records the gauge when an expiry date or the interval passes, until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.loop()
            }
        } catch is CancellationError {
            return
        }
    }

    private func loop() async throws {
        var seenCommit: String?
        var nextExpiry: Date?
        var nextRecord = ContinuousClock.now + interval
        while !Task.isCancelled {
            let now = Date()
            // A commit seen for the first time is recorded too: the watcher recorded it when it served it, but an
            // expiry may have passed since.
            if let state = store.current,
                state.commit != seenCommit || ContinuousClock.now >= nextRecord || nextExpiry.map({ $0 <= now }) == true
            {
                seenCommit = state.commit
                Self.record(state.snapshot, at: now)
                nextExpiry = Self.nextExpiry(in: state.snapshot, after: now)
                nextRecord = ContinuousClock.now + interval
            }
            var wait = min(checkInterval, nextRecord - ContinuousClock.now)
            if let nextExpiry {
                wait = min(wait, .milliseconds(Int64((nextExpiry.timeIntervalSince(now) * 1000).rounded(.up))))
            }
            try await Task.sleep(for: max(wait, .milliseconds(1)))
        }
    }

    /// Records `halyard_flags_stale` for every environment of `snapshot`: how many of its flags are past
    /// `metadata.expires` (or have a malformed one) or serve one value to everybody at `now`.
    public static func record(_ snapshot: Snapshot, at now: Date) {
        for (name, environment) in snapshot.environments {
            Gauge(label: "halyard_flags_stale", dimensions: [("environment", name)])
                .record(StaleScanner.staleCount(in: environment, at: now))
        }
    }

    /// The earliest `metadata.expires` of any flag of `snapshot` that is later than `now`; nil when there is none.
    public static func nextExpiry(in snapshot: Snapshot, after now: Date) -> Date? {
        var earliest: Date?
        for environment in snapshot.environments.values {
            for loaded in environment.flags.values where loaded.flag.metadata["expires"] != nil {
                guard case .date(let date, _) = FlagExpiry(of: loaded.flag), date > now else { continue }
                if earliest.map({ date < $0 }) ?? true { earliest = date }
            }
        }
        return earliest
    }
}
