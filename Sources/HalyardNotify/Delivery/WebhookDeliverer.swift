//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HalyardRules
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends the webhook messages waiting in the ``StateDatabase`` outbox to their subscribers.
///
/// It is the long-running half of Halyard's webhooks (DESIGN §7): ``StateDatabase/recordApplied(_:changes:fetchedAt:flagsBaseURL:)``
/// enqueues durably, and the deliverer drains the outbox, so nothing is lost when the process stops at any point.
/// A message leaves the outbox only after a 2xx answer (or when it is given up), so a new deliverer on the same
/// database sends exactly what is still pending, with the same `webhook-id`.
///
/// - Subscribers are served concurrently, up to ``Configuration-swift.struct/maxConcurrentDeliveries`` requests at
///   once, with at most one request in flight per subscription, so a slow or dead receiver never delays the others.
/// - Failures are retried with exponential backoff and full jitter; `Retry-After` is honoured; `410 Gone` disables the
///   subscription; a message older than ``Configuration-swift.struct/maxAge`` is dead.
/// - Every attempt is appended to the subscription's delivery log and counted in metrics
///   (`halyard_webhook_deliveries_total`, `halyard_webhook_delivery_duration_seconds`, `halyard_propagation_seconds`).
///
/// ```swift
/// let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: WebhookDeliverer.httpClientConfiguration())
/// let deliverer = WebhookDeliverer(database: database, httpClient: httpClient, logger: logger)
/// let group = ServiceGroup(services: [watcher, deliverer, server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// The `HTTPClient` must not follow redirects (DESIGN §7); ``httpClientConfiguration(maxConcurrentDeliveries:)`` makes
/// a suitable configuration.
public final class WebhookDeliverer: Service, Sendable {
    /// How the deliverer sends and retries.
    public struct Configuration: Sendable {
        /// The time limit of one request, from connecting to the end of the response.
        public var timeout: Duration
        /// The most requests in flight at once, across all subscriptions.
        public var maxConcurrentDeliveries: Int
        /// The backoff ceiling after the first failure.
        public var initialBackoff: Duration
        /// The largest delay between two attempts; also caps `Retry-After`.
        public var maxBackoff: Duration
        /// How long after being enqueued a message is given up.
        public var maxAge: Duration

        /// Creates a configuration; the defaults are DESIGN §7's.
        public init(
            timeout: Duration = .seconds(10),
            maxConcurrentDeliveries: Int = 256,
            initialBackoff: Duration = .seconds(1),
            maxBackoff: Duration = .seconds(600),
            maxAge: Duration = .seconds(24 * 3600)
        ) {
            self.timeout = timeout
            self.maxConcurrentDeliveries = max(1, maxConcurrentDeliveries)
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxAge = maxAge
        }

        /// The delay before retrying after failed attempt number `attempt` (1 for the first attempt): exponential
        /// backoff with full jitter, `random × min(maxBackoff, initialBackoff × 2^(attempt-1))`.
        ///
        /// - Parameter random: A number in `0..<1`.
        public func backoffDelay(attempt: Int, random: Double) -> Duration {
            let exponent = Double(min(max(attempt, 1) - 1, 62))
            let ceiling = min(self.maxBackoff.seconds, self.initialBackoff.seconds * pow(2, exponent))
            return .seconds(min(max(random, 0), 1) * ceiling)
        }
    }

    /// The longest the deliverer waits without looking at the outbox.
    private static let pollInterval: TimeInterval = 60

    private struct State {
        var wakePending = false
        var shuttingDown = false
        var waiter: CheckedContinuation<Void, Never>?
        var busySubscriptions: Set<String> = []

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            defer { self.waiter = nil }
            return self.waiter
        }
    }

    private let database: StateDatabase
    private let httpClient: HTTPClient
    private let configuration: Configuration
    private let clock: any WebhookClock
    private let random: @Sendable () -> Double
    private let logger: Logger
    private let state = Mutex(State())
    private let metrics = DeliveryMetrics()

    /// Creates a deliverer.
    ///
    /// - Parameters:
    ///   - database: The database whose outbox is drained.
    ///   - httpClient: The client that sends requests. It must not follow redirects.
    ///   - configuration: Timeouts, concurrency and retry policy.
    ///   - clock: The wall clock of retry times; tests inject a manual one.
    ///   - random: The jitter source, returning numbers in `0..<1`.
    ///   - logger: Where deliveries, failures and dead messages are logged.
    public init(
        database: StateDatabase,
        httpClient: HTTPClient,
        configuration: Configuration = .init(),
        clock: any WebhookClock = SystemWebhookClock(),
        random: @escaping @Sendable () -> Double = { .random(in: 0..<1) },
        logger: Logger
    ) {
        self.database = database
        self.httpClient = httpClient
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    /// An `HTTPClient` configuration for webhooks: no redirects, the timeout as connect and read timeout, and enough
    /// connections per host for `maxConcurrentDeliveries`.
    public static func httpClientConfiguration(
        timeout: Duration = .seconds(10),
        maxConcurrentDeliveries: Int = 256
    ) -> HTTPClient.Configuration {
        let timeAmount = TimeAmount(timeout)
        return HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeAmount, read: timeAmount),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, maxConcurrentDeliveries)),
            decompression: .disabled
        )
    }

    /// Delivers until the task is cancelled or a graceful shutdown is requested.
    ///
    /// On graceful shutdown it starts no new request and waits for those in flight (bounded by the timeout). On
    /// cancellation, requests in flight are abandoned; their messages stay pending and are sent again later with the
    /// same `webhook-id`.
    public func run() async throws {
        self.logger.info("Webhook deliverer started", metadata: ["pending": "\((try? self.database.pendingMessageCount()) ?? -1)"])
        let observer = self.database.addEnqueueObserver { [self] in self.wake() }
        defer { self.database.removeEnqueueObserver(observer) }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                await self.loop(group: &group)
            }
        } onGracefulShutdown: {
            self.state.withLock { state in
                state.shuttingDown = true
                return state.takeWaiter()
            }?.resume()
        }
        self.logger.info("Webhook deliverer stopped")
    }

    /// Tells the deliverer that messages were enqueued, so it looks at the outbox now.
    ///
    /// ``StateDatabase/recordApplied(_:changes:fetchedAt:flagsBaseURL:)`` on the deliverer's own database instance
    /// already wakes it; call this after changing the outbox in other ways.
    public func wake() {
        self.state.withLock { state in
            state.wakePending = true
            return state.takeWaiter()
        }?.resume()
    }

    // MARK: - Loop

    private func loop(group: inout DiscardingTaskGroup) async {
        while !Task.isCancelled {
            guard let busy = self.state.withLock({ $0.shuttingDown ? nil : $0.busySubscriptions }) else { return }
            let capacity = self.configuration.maxConcurrentDeliveries - busy.count
            var nextDue: Date?
            if capacity > 0 {
                let now = self.clock.now()
                do {
                    let batch = try self.database.dueMessages(now: now, busySubscriptions: busy, limit: capacity)
                    self.state.withLock { state in
                        for message in batch.messages {
                            state.busySubscriptions.insert(message.subscriptionID)
                        }
                    }
                    for message in batch.messages {
                        group.addTask {
                            await self.deliver(message)
                            self.finished(subscriptionID: message.subscriptionID)
                        }
                    }
                    nextDue = batch.nextDue
                } catch {
                    self.logger.error("Cannot read the webhook outbox", metadata: ["error": "\(error)"])
                    nextDue = now.addingTimeInterval(1)
                }
            }
            // Look at the outbox at least every minute, whatever happens to wake-ups.
            let poll = self.clock.now().addingTimeInterval(Self.pollInterval)
            await self.waitForWork(until: min(nextDue ?? poll, poll))
        }
    }

    private func finished(subscriptionID: String) {
        self.state.withLock { state in
            state.busySubscriptions.remove(subscriptionID)
            state.wakePending = true
            return state.takeWaiter()
        }?.resume()
    }

    /// Returns when woken, when `deadline` passes, on shutdown or on cancellation.
    private func waitForWork(until deadline: Date?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            if let deadline {
                let clock = self.clock
                group.addTask { try? await clock.sleep(until: deadline) }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    if state.wakePending || state.shuttingDown || Task.isCancelled {
                        state.wakePending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            self.state.withLock { $0.takeWaiter() }?.resume()
        }
    }

    // MARK: - One attempt

    private func deliver(_ message: OutboxMessage) async {
        var logger = self.logger
        logger[metadataKey: "webhook-id"] = "\(message.messageID)"
        logger[metadataKey: "subscription"] = "\(message.subscriptionID)"
        logger[metadataKey: "url"] = "\(message.url)"

        let attemptNumber = message.attempts + 1
        let startedAt = self.clock.now()
        let started = ContinuousClock.now
        var status: Int?
        var retryAfter: String?
        var failure: String?
        do {
            let request = try self.request(for: message, timestamp: Int(startedAt.timeIntervalSince1970.rounded(.down)))
            let response = try await self.httpClient.execute(request, timeout: TimeAmount(self.configuration.timeout), logger: logger)
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "retry-after")
            // Read (and discard) a bounded amount of the answer so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            if Task.isCancelled {
                logger.debug("Webhook delivery cancelled; the message stays pending")
                return
            }
            failure = Self.describe(error, timeout: self.configuration.timeout)
        }
        let duration = (ContinuousClock.now - started).seconds
        self.metrics.duration.recordSeconds(duration)

        let now = self.clock.now()
        let outcome: DeliveryOutcome
        let result: String
        if let status, (200..<300).contains(status) {
            outcome = .delivered
            result = "delivered"
            failure = nil
        } else if status == 410 {
            outcome = .gone
            result = "disabled"
            failure = failure ?? "410 Gone: the subscription is disabled"
        } else {
            failure = failure ?? "HTTP \(status ?? 0)"
            outcome = self.retryOutcome(message: message, attempt: attemptNumber, now: now, retryAfter: retryAfter)
            if case .dead = outcome {
                result = "dead"
            } else {
                result = "failed"
            }
        }
        let attempt = DeliveryAttempt(
            messageID: message.messageID,
            environment: message.environment,
            commit: message.commit,
            attempt: attemptNumber,
            at: startedAt,
            status: status,
            durationSeconds: duration,
            error: failure,
            result: result
        )
        do {
            try self.database.complete(message, attempt: attempt, outcome: outcome)
        } catch {
            // The message stays as it was and is sent again (with the same webhook-id). Keep this subscription busy for
            // a while so a failing database does not turn into a busy loop of requests.
            logger.error("Cannot record a webhook delivery", metadata: ["error": "\(error)"])
            try? await self.clock.sleep(until: now.addingTimeInterval(5))
            return
        }

        switch outcome {
        case .delivered:
            self.metrics.delivered.increment()
            self.metrics.propagation.recordSeconds(max(0, now.timeIntervalSince(message.fetchedAt)))
            logger.debug("Webhook delivered", metadata: ["status": "\(status ?? 0)", "attempt": "\(attemptNumber)"])
        case .retry(let next):
            self.metrics.failed.increment()
            logger.info(
                "Webhook delivery failed; will retry",
                metadata: ["attempt": "\(attemptNumber)", "error": "\(failure ?? "")", "retryAt": "\(next)"]
            )
        case .dead:
            self.metrics.dead.increment()
            logger.warning(
                "Webhook message is dead: not delivered within the maximum age",
                metadata: ["attempt": "\(attemptNumber)", "error": "\(failure ?? "")", "enqueuedAt": "\(message.enqueuedAt)"]
            )
        case .gone:
            self.metrics.failed.increment()
            logger.warning("Webhook receiver answered 410 Gone; subscription disabled")
        }
    }

    private func request(for message: OutboxMessage, timestamp: Int) throws(NotifyError) -> HTTPClientRequest {
        let signer = try WebhookSigner(secret: message.secret)
        var request = HTTPClientRequest(url: message.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "Halyard-Webhooks/1.0")
        request.headers.add(name: "webhook-id", value: message.messageID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: signer.signature(id: message.messageID, timestamp: timestamp, body: message.body))
        request.body = .bytes(ByteBuffer(bytes: message.body))
        return request
    }

    /// What to do after a failed attempt: retry after the backoff (and no earlier than `Retry-After`), or give up once
    /// the message reaches the maximum age.
    private func retryOutcome(message: OutboxMessage, attempt: Int, now: Date, retryAfter: String?) -> DeliveryOutcome {
        let expiry = message.enqueuedAt.addingTimeInterval(self.configuration.maxAge.seconds)
        guard now < expiry else { return .dead }
        var next = now.addingTimeInterval(self.configuration.backoffDelay(attempt: attempt, random: self.random()).seconds)
        if let requested = RetryAfter.date(from: retryAfter, now: now) {
            let capped = min(requested, now.addingTimeInterval(self.configuration.maxBackoff.seconds))
            next = max(next, capped)
            // The receiver asks us to wait past the end of the message's life.
            if next > expiry { return .dead }
        }
        return .retry(at: min(next, expiry))
    }

    private static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return "timed out after \(timeout.seconds)s"
            }
            return "\(error)"
        }
        return String(describing: error)
    }
}

/// The delivery metrics, created once per deliverer (after the app has bootstrapped its metrics backend).
private struct DeliveryMetrics: Sendable {
    let delivered = Counter(label: "halyard_webhook_deliveries_total", dimensions: [("result", "delivered")])
    let failed = Counter(label: "halyard_webhook_deliveries_total", dimensions: [("result", "failed")])
    let dead = Counter(label: "halyard_webhook_deliveries_total", dimensions: [("result", "dead")])
    let duration = Metrics.Timer(label: "halyard_webhook_delivery_duration_seconds", preferredDisplayUnit: .seconds)
    let propagation = Metrics.Timer(label: "halyard_propagation_seconds", preferredDisplayUnit: .seconds)
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
