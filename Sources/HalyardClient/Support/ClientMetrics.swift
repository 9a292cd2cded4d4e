//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import CoreMetrics
import Metrics

/// The client's swift-metrics instruments, each with an `environment` dimension.
///
/// - `halyard_client_sync_age_seconds` (gauge): seconds since the flags were last confirmed current (a 200 or a 304),
///   updated every second while the client runs;
/// - `halyard_client_fetch_errors_total`: flag fetches that failed;
/// - `halyard_client_stream_errors_total`: event-stream connections that failed or broke;
/// - `halyard_client_webhook_verifications_total` with `result` = `valid`, `invalid_signature`, `expired`,
///   `replayed`: refresh calls checked.
struct ClientMetrics: Sendable {
    let syncAge: Gauge
    let fetchErrors: Counter
    let streamErrors: Counter
    private let verifications: [WebhookVerifier.Result: Counter]

    init(environment: String) {
        let dimensions = [("environment", environment)]
        syncAge = Gauge(label: "halyard_client_sync_age_seconds", dimensions: dimensions)
        fetchErrors = Counter(label: "halyard_client_fetch_errors_total", dimensions: dimensions)
        streamErrors = Counter(label: "halyard_client_stream_errors_total", dimensions: dimensions)
        var verifications: [WebhookVerifier.Result: Counter] = [:]
        for result in [WebhookVerifier.Result.valid, .invalidSignature, .expired, .replayed] {
            verifications[result] = Counter(
                label: "halyard_client_webhook_verifications_total", dimensions: dimensions + [("result", result.rawValue)])
        }
        self.verifications = verifications
    }

    func verified(_ result: WebhookVerifier.Result) {
        verifications[result]?.increment()
    }
}
