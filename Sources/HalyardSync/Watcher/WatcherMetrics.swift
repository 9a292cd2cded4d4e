import Foundation
import HalyardRules
import Metrics

/// The watcher's metrics, created once.
struct WatcherMetrics: Sendable {
    private let fetchSuccess = Counter(label: "halyard_fetch_total", dimensions: [("result", "success")])
    private let fetchError = Counter(label: "halyard_fetch_total", dimensions: [("result", "error")])
    private let fetchDuration = Timer(label: "halyard_fetch_duration_seconds", preferredDisplayUnit: .seconds)
    private let appliedTotal = Counter(label: "halyard_commits_applied_total")
    /// By `reason`: `invalid` flags, or the signature's `unsigned`, `unknown_key`, `bad_signature`.
    private let rejectedTotal = Dictionary(
        uniqueKeysWithValues: (["invalid"] + SignatureFailure.Reason.allCases.map(\.metricLabel)).map {
            ($0, Counter(label: "halyard_commits_rejected_total", dimensions: [("reason", $0)]))
        }
    )
    private let lastApplied = Gauge(label: "halyard_last_applied_timestamp_seconds")

    func fetch(result: String, duration: Duration) {
        (result == "success" ? fetchSuccess : fetchError).increment()
        fetchDuration.recordSeconds(duration.seconds)
    }

    func applied(_ snapshot: Snapshot, at date: Date) {
        appliedTotal.increment()
        recordServed(snapshot, at: date)
    }

    func recordServed(_ snapshot: Snapshot, at date: Date) {
        lastApplied.record(date.timeIntervalSince1970)
        for (name, environment) in snapshot.environments {
            Gauge(label: "halyard_flags", dimensions: [("environment", name)]).record(environment.flags.count)
        }
        // Flags past `metadata.expires` or serving one value to everybody (DESIGN §14), as of this snapshot; the
        // `StaleGauge` service records it again when an expiry date passes with no commit.
        StaleGauge.record(snapshot, at: Date())
    }

    func rejected(reason: String) {
        rejectedTotal[reason]?.increment()
    }
}
