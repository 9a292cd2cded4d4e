//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardNotify
import HalyardRules
import Logging
import ServiceLifecycle

/// Brings a PostgreSQL state store into use, then delivers: start-up does not wait for PostgreSQL (DESIGN §10).
///
/// It runs next to the watcher and the HTTP server, which serve from git at once. Until the server is reached and
/// the schema is migrated (retried with ``Backoff``), the store answers "unavailable" at once, the publisher does not
/// publish, `/v1/status` shows the reason, and the webhook deliverer is not started. Once the store is in use the
/// deliverer runs; the publication loop takes the publisher lock at its next retry.
struct SharedStatePreparation: Service {
    let store: PostgresStateStore
    let staticSubscriptions: [StaticSubscription]
    let deliverer: WebhookDeliverer?
    let backoff: Backoff
    /// Whether start-up's first try already prepared the store.
    let prepared: Bool

    /// Prepares the store (a ``HalyardService/StartError`` when the server refuses the user or the database), then
    /// runs the deliverer, or waits for the shutdown when there is none.
    func run() async throws {
        if !self.prepared {
            do {
                try await cancelWhenGracefulShutdown {
                    try await self.store.prepare(staticSubscriptions: self.staticSubscriptions, backoff: self.backoff)
                }
            } catch let error as NotifyError {
                throw HalyardService.StartError(
                    kind: error.isClientError ? .staticSubscriptions : .database,
                    path: self.store.location,
                    underlying: error
                )
            } catch {
                return  // shut down before the store was reached
            }
            // Cancelled or shut down before the store was reached.
            guard self.store.isReady, !Task.isCancelled else { return }
        }
        if let deliverer = self.deliverer {
            try await deliverer.run()
        } else {
            try? await gracefulShutdown()
        }
    }
}
