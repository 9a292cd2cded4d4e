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

/// Sends the webhook messages waiting in the outbox of an ``OutboxStore`` (``StateDatabase``, ``PostgresStateStore``)
/// to their subscribers.
///
/// It is the long-running half of Halyard's webhooks (DESIGN §7): ``StateDatabase/recordApplied(_:changes:fetchedAt:)``
/// enqueues durably, and the deliverer drains the outbox, so nothing is lost when the process stops at any point.
/// A message leaves the outbox only after a 2xx answer (or when it is given up), so a new deliverer on the same
/// database sends exactly what is still pending, with the same `webhook-id`.
///
/// - Subscribers are served concurrently, up to ``Configuration-swift.struct/maxConcurrentDeliveries`` requests at
///   once, with at most one request in flight per subscription, so a slow or dead receiver never delays the others.
/// - Failures are retried with exponential backoff and full jitter; `Retry-After` is honoured; `410 Gone` disables the
///   subscription; a message older than ``Configuration-swift.struct/maxAge`` is dead.
/// - An attempt has ``Configuration-swift.struct/timeout`` from resolving the host to the last byte of the answer; a
///   refused connection fails at once.
/// - Unless ``Configuration-swift.struct/allowPrivateNetworks`` is true, it connects only to public addresses, checked
///   on the resolved address at every attempt (``SubscriberNetworkPolicy`` explains how rebinding is ruled out).
/// - With a `servedCommit` closure, a message is sent only once the commit it names is served (DESIGN §7).
/// - Every attempt is appended to the subscription's delivery log and counted in metrics
///   (`halyard_webhook_deliveries_total`, `halyard_webhook_delivery_duration_seconds`, `halyard_propagation_seconds`).
///   Subscriber URLs appear in logs and errors without their query string.
///
/// ```swift
/// let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: WebhookDeliverer.httpClientConfiguration())
/// let deliverer = WebhookDeliverer(
///     database: database,
///     httpClient: httpClient,
///     configuration: .init(allowedHosts: ["*.internal.acme.com"]),
///     servedCommit: { store.current?.commit },
///     logger: logger
/// )
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
        /// Whether subscribers on loopback, link-local, private and unspecified addresses are reached
        /// (`notify.allowPrivateNetworks`, DESIGN §13). The check is made on the resolved address at every attempt.
        public var allowPrivateNetworks: Bool
        /// The hosts a subscriber URL may name (`notify.allowedHosts`), checked at every attempt; `nil` allows any.
        public var allowedHosts: [String]?
        /// On graceful shutdown, how long requests in flight may still finish before they are abandoned (their messages
        /// stay pending and are sent again, with the same `webhook-id`, after the restart).
        public var shutdownGracePeriod: Duration

        /// How host names are resolved; tests map made-up names to loopback.
        var resolver: HostResolver = .system
        /// Address ranges reached although ``allowPrivateNetworks`` is false; tests use it to pin loopback receivers.
        var exemptRanges: Set<RestrictedRange> = []

        /// Creates a configuration; the defaults are DESIGN §7's and §13's.
        public init(
            timeout: Duration = .seconds(10),
            maxConcurrentDeliveries: Int = 256,
            initialBackoff: Duration = .seconds(1),
            maxBackoff: Duration = .seconds(600),
            maxAge: Duration = .seconds(24 * 3600),
            allowPrivateNetworks: Bool = false,
            allowedHosts: [String]? = nil,
            shutdownGracePeriod: Duration = .seconds(2),
            claimLease: Duration = .seconds(40)
        ) {
            self.timeout = timeout
            self.maxConcurrentDeliveries = max(1, maxConcurrentDeliveries)
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxAge = maxAge
            self.allowPrivateNetworks = allowPrivateNetworks
            self.allowedHosts = allowedHosts
            self.shutdownGracePeriod = shutdownGracePeriod
            self.claimLease = claimLease
        }

        /// How long a claimed message stays reserved for this deliverer in a store shared by several replicas
        /// (`state.claimLease`): longer than an attempt (``timeout``) and its recording can take, so only a deliverer
        /// that died loses its claim; a message claimed by a replica that died is sent again once it expires.
        public var claimLease: Duration

        var networkPolicy: SubscriberNetworkPolicy {
            SubscriberNetworkPolicy(
                allowPrivateNetworks: self.allowPrivateNetworks,
                allowedHosts: self.allowedHosts,
                resolver: self.resolver,
                exemptRanges: self.exemptRanges
            )
        }

        /// The delay before retrying after failed attempt number `attempt` (1 for the first attempt): exponential
        /// backoff with full jitter, `random × min(maxBackoff, initialBackoff × 2^(attempt-1))`.
        ///
        /// - Parameter random: A number in `0..<1`.
        public func backoffDelay(attempt: Int, random: Double) -> Duration {
            Backoff(initial: self.initialBackoff, maximum: self.maxBackoff, jitter: .full).delay(attempt: attempt, random: random)
        }
    }

    /// The longest the deliverer waits without looking at the outbox.
    private static let pollInterval: TimeInterval = 60

    /// While a message is held back because the commit it names is not served yet, how often the outbox is looked at
    /// again (the watcher's listener normally wakes the deliverer as soon as the commit is served).
    private static let heldRecheckInterval: TimeInterval = 0.25

    private struct State {
        var wakePending = false
        var shuttingDown = false
        var waiter: CheckedContinuation<Void, Never>?
        var idleWaiter: CheckedContinuation<Void, Never>?
        var busySubscriptions: Set<String> = []

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            defer { self.waiter = nil }
            return self.waiter
        }
    }

    private let database: any OutboxStore
    private let httpClient: HTTPClient
    private let configuration: Configuration
    private let networkPolicy: SubscriberNetworkPolicy
    private let clock: any WebhookClock
    private let random: @Sendable () -> Double
    private let servedCommit: (@Sendable () -> String?)?
    private let flagsBaseURL: (@Sendable () -> String?)?
    private let logger: Logger
    private let state = Mutex(State())
    private let metrics: DeliveryMetrics
    private let completions: CompletionQueue
    private let pinnedClients: PinnedClients

    /// Creates a deliverer.
    ///
    /// - Parameters:
    ///   - database: The store whose outbox is drained: the SQLite ``StateDatabase`` or a ``PostgresStateStore``.
    ///   - httpClient: The client that sends requests. It must not follow redirects.
    ///   - configuration: Timeouts, concurrency and retry policy.
    ///   - clock: The wall clock of retry times; tests inject a manual one.
    ///   - random: The jitter source, returning numbers in `0..<1`.
    ///   - servedCommit: The commit the service serves now. When given, a message naming the commit recorded last is
    ///     held back until this returns that commit, so a subscriber that fetches `flagsUrl` on receipt never gets an
    ///     older one (DESIGN §7). Wake the deliverer (``wake()``) once a new commit is served.
    ///   - flagsBaseURL: The service's public base URL, as in `http://127.0.0.1:8080`, once known (the server may
    ///     not be bound yet). A stored body whose `flagsUrl` is a path only gets it in front of that path when sent.
    ///     While it returns nil nothing is sent; wake the deliverer (``wake()``) once it returns the URL. Without
    ///     it, bodies are sent as stored.
    ///   - metricsFactory: Where the delivery metrics go; the bootstrapped `MetricsSystem` by default.
    ///   - logger: Where deliveries, failures and dead messages are logged. Subscriber URLs appear without their query.
    public init(
        database: any OutboxStore,
        httpClient: HTTPClient,
        configuration: Configuration = .init(),
        clock: any WebhookClock = SystemWebhookClock(),
        random: @escaping @Sendable () -> Double = { .random(in: 0..<1) },
        servedCommit: (@Sendable () -> String?)? = nil,
        flagsBaseURL: (@Sendable () -> String?)? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) {
        self.database = database
        self.httpClient = httpClient
        self.configuration = configuration
        self.networkPolicy = configuration.networkPolicy
        self.clock = clock
        self.random = random
        self.servedCommit = servedCommit
        self.flagsBaseURL = flagsBaseURL
        self.metrics = DeliveryMetrics(factory: metricsFactory)
        self.logger = logger
        self.completions = CompletionQueue(store: database)
        self.pinnedClients = PinnedClients(
            eventLoopGroup: httpClient.eventLoopGroup,
            configuration: Self.httpClientConfiguration(
                timeout: configuration.timeout,
                maxConcurrentDeliveries: configuration.maxConcurrentDeliveries
            )
        )
    }

    /// An `HTTPClient` configuration for webhooks: no redirects, the timeout as connect and read timeout, enough
    /// connections per host for `maxConcurrentDeliveries`, and no retrying of a refused connection (a closed port is a
    /// quick failure that backs off like any other, not 10 s of reconnecting).
    public static func httpClientConfiguration(
        timeout: Duration = .seconds(10),
        maxConcurrentDeliveries: Int = 256
    ) -> HTTPClient.Configuration {
        let timeAmount = TimeAmount(timeout)
        var connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, maxConcurrentDeliveries)
        )
        connectionPool.retryConnectionEstablishment = false
        return HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeAmount, read: timeAmount),
            connectionPool: connectionPool,
            decompression: .disabled
        )
    }

    /// Delivers until the task is cancelled or a graceful shutdown is requested.
    ///
    /// On graceful shutdown it starts no new request and lets those in flight finish for at most
    /// ``Configuration-swift.struct/shutdownGracePeriod``, then abandons them. On cancellation, requests in flight are
    /// abandoned at once. An abandoned message stays pending and is sent again later with the same `webhook-id`.
    public func run() async throws {
        let pending = (try? await self.database.pendingMessageCount()) ?? -1
        self.logger.info("Webhook deliverer started", metadata: ["pending": "\(pending)"])
        let observer = self.database.addEnqueueObserver { [self] in self.wake() }
        defer { self.database.removeEnqueueObserver(observer) }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                await self.loop(group: &group)
                await self.waitUntilIdle(atMost: self.configuration.shutdownGracePeriod)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.withLock { state in
                state.shuttingDown = true
                return state.takeWaiter()
            }?.resume()
        }
        await self.pinnedClients.shutdown()
        self.logger.info("Webhook deliverer stopped")
    }

    /// Tells the deliverer that messages were enqueued, so it looks at the outbox now.
    ///
    /// ``StateDatabase/recordApplied(_:changes:fetchedAt:)`` on the deliverer's own database instance
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
            // Nothing leaves before the base URL of `flagsUrl` is known; whoever learns it wakes the deliverer.
            let baseURLKnown = self.flagsBaseURL.map { $0() != nil } ?? true
            if capacity > 0, baseURLKnown {
                let now = self.clock.now()
                do {
                    let batch = try await self.database.claimDueMessages(
                        now: now,
                        busySubscriptions: busy,
                        limit: capacity,
                        lease: self.configuration.claimLease,
                        servedCommit: self.servedCommit
                    )
                    self.state.withLock { state in
                        for message in batch.messages {
                            state.busySubscriptions.insert(message.subscriptionID)
                        }
                    }
                    for message in await self.completingFlagsURLs(batch.messages) {
                        group.addTask {
                            await self.deliver(message)
                            self.finished(subscriptionID: message.subscriptionID)
                        }
                    }
                    nextDue = batch.nextDue
                    if batch.heldBack {
                        let recheck = now.addingTimeInterval(Self.heldRecheckInterval)
                        nextDue = min(nextDue ?? recheck, recheck)
                    }
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
        let (waiter, idleWaiter) = self.state.withLock { state in
            state.busySubscriptions.remove(subscriptionID)
            state.wakePending = true
            let idleWaiter = state.busySubscriptions.isEmpty ? state.idleWaiter : nil
            if idleWaiter != nil { state.idleWaiter = nil }
            return (state.takeWaiter(), idleWaiter)
        }
        waiter?.resume()
        idleWaiter?.resume()
    }

    /// Returns when no request is in flight, after `grace` (real time), or on cancellation.
    private func waitUntilIdle(atMost grace: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: grace) }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let idle = self.state.withLock { state in
                            if state.busySubscriptions.isEmpty || Task.isCancelled { return true }
                            state.idleWaiter = continuation
                            return false
                        }
                        if idle { continuation.resume() }
                    }
                } onCancel: {
                    self.state.withLock { state in
                        defer { state.idleWaiter = nil }
                        return state.idleWaiter
                    }?.resume()
                }
            }
            await group.next()
            group.cancelAll()
        }
        let abandoned = self.state.withLock { $0.busySubscriptions.count }
        if abandoned > 0 {
            self.logger.info("Abandoning webhook requests in flight at shutdown; their messages stay pending", metadata: ["requests": "\(abandoned)"])
        }
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

    /// Sends one message (its `flagsUrl` already completed) and records what happened: send it, judge the answer,
    /// record the attempt together with the message's next state, then count and log it.
    private func deliver(_ message: OutboxMessage) async {
        let logger = self.logger(for: message)
        guard let attempt = await self.attempt(message, logger: logger) else { return }
        let now = self.clock.now()
        let verdict = self.judge(attempt, message: message, now: now)
        guard await self.record(attempt, verdict, of: message, now: now, logger: logger) else { return }
        self.report(verdict, of: attempt, message: message, now: now, logger: logger)
    }

    /// The deliverer's logger with the message's id, subscription and (redacted) URL as metadata.
    private func logger(for message: OutboxMessage) -> Logger {
        var logger = self.logger
        logger[metadataKey: "webhook-id"] = "\(message.messageID)"
        logger[metadataKey: "subscription"] = "\(message.subscriptionID)"
        logger[metadataKey: "url"] = "\(SubscriberURL.redacted(message.url))"
        return logger
    }

    /// Signs and sends the message once and times it; nil when the task was cancelled meanwhile (the message stays
    /// pending, nothing is recorded).
    private func attempt(_ message: OutboxMessage, logger: Logger) async -> Attempt? {
        let startedAt = self.clock.now()
        let started = ContinuousClock.now
        var response: AttemptResponse?
        var failure: String?
        do {
            let request = try self.request(for: message, timestamp: Int(startedAt.timeIntervalSince1970.rounded(.down)))
            response = try await self.send(request, to: message.url, logger: logger)
        } catch {
            if Task.isCancelled {
                logger.debug("Webhook delivery cancelled; the message stays pending")
                return nil
            }
            failure = DeliveryFailure.describe(error, timeout: self.configuration.timeout)
        }
        let duration = (ContinuousClock.now - started).seconds
        self.metrics.duration.recordSeconds(duration)
        return Attempt(number: message.attempts + 1, startedAt: startedAt, durationSeconds: duration, response: response, failure: failure)
    }

    /// What the answer means for the message: 2xx delivers it, 410 disables the subscription, anything else (or no
    /// answer) is retried until the message is too old.
    private func judge(_ attempt: Attempt, message: OutboxMessage, now: Date) -> Verdict {
        let status = attempt.response?.status
        if let status, (200..<300).contains(status) {
            return Verdict(outcome: .delivered, failure: nil)
        }
        if status == 410 {
            return Verdict(outcome: .gone, failure: attempt.failure ?? "410 Gone: the subscription is disabled")
        }
        return Verdict(
            outcome: self.retryOutcome(message: message, attempt: attempt.number, now: now, retryAfter: attempt.response?.retryAfter),
            failure: attempt.failure ?? "HTTP \(status ?? 0)"
        )
    }

    /// Appends the attempt to the delivery log and moves the message on, in one write shared with the attempts that
    /// finish meanwhile (``CompletionQueue``); false when the database failed.
    ///
    /// After a failed write the message stays as it was and is sent again (with the same webhook-id). This subscription
    /// then stays busy for a while, so a failing database does not turn into a busy loop of requests.
    private func record(_ attempt: Attempt, _ verdict: Verdict, of message: OutboxMessage, now: Date, logger: Logger) async -> Bool {
        let entry = DeliveryAttempt(
            messageID: message.messageID,
            environment: message.environment,
            commit: message.commit,
            attempt: attempt.number,
            at: attempt.startedAt,
            status: attempt.response?.status,
            durationSeconds: attempt.durationSeconds,
            error: verdict.failure,
            result: verdict.outcome.result
        )
        do {
            try await self.completions.complete(OutboxCompletion(message: message, attempt: entry, outcome: verdict.outcome))
            return true
        } catch {
            logger.error("Cannot record a webhook delivery", metadata: ["error": "\(error)"])
            try? await self.clock.sleep(until: now.addingTimeInterval(5))
            return false
        }
    }

    /// Counts the outcome in metrics (with the propagation time of a delivery) and logs it.
    private func report(_ verdict: Verdict, of attempt: Attempt, message: OutboxMessage, now: Date, logger: Logger) {
        self.metrics.count(verdict.outcome)
        switch verdict.outcome {
        case .delivered:
            self.metrics.propagation.recordSeconds(max(0, now.timeIntervalSince(message.fetchedAt)))
            logger.debug("Webhook delivered", metadata: ["status": "\(attempt.response?.status ?? 0)", "attempt": "\(attempt.number)"])
        case .retry(let next):
            logger.info(
                "Webhook delivery failed; will retry",
                metadata: ["attempt": "\(attempt.number)", "error": "\(verdict.failure ?? "")", "retryAt": "\(next)"]
            )
        case .dead:
            logger.warning(
                "Webhook message is dead: not delivered within the maximum age",
                metadata: ["attempt": "\(attempt.number)", "error": "\(verdict.failure ?? "")", "enqueuedAt": "\(message.enqueuedAt)"]
            )
        case .gone:
            logger.warning("Webhook receiver answered 410 Gone; subscription disabled")
        }
    }

    /// Sends one request and reads its answer, all within ``Configuration-swift.struct/timeout`` (DESIGN §7: from
    /// connecting, or resolving the host, to the last byte of the response).
    ///
    /// AsyncHTTPClient's own deadline stops at the response head, and its read timeout restarts at every byte, so a
    /// receiver trickling its body one byte every few seconds would hold the attempt forever. The whole exchange
    /// therefore runs under ``withDeadline(_:_:)``, which cancels it at the deadline; cancelling the body stream makes
    /// AsyncHTTPClient close the connection.
    private func send(_ request: HTTPClientRequest, to url: String, logger: Logger) async throws -> AttemptResponse {
        let timeout = self.configuration.timeout
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        return try await withDeadline(timeout) {
            switch try await self.networkPolicy.target(for: url) {
            case .asIs:
                return try await Self.exchange(request, client: self.httpClient, deadline: deadline, logger: logger)
            case .pinned(let host, let address):
                // A client whose only way to reach `host` is the address just checked (see SubscriberNetworkPolicy),
                // kept with its connections for the next attempt that checks the same address.
                return try await self.pinnedClients.withClient(host: host, address: address) { client in
                    try await Self.exchange(request, client: client, deadline: deadline, logger: logger)
                }
            }
        }
    }

    /// Executes the request and reads (and discards) at most 64 KiB of the answer.
    private static func exchange(
        _ request: HTTPClientRequest,
        client: HTTPClient,
        deadline: NIODeadline,
        logger: Logger
    ) async throws -> AttemptResponse {
        let response = try await client.execute(request, deadline: deadline, logger: logger)
        var received = 0
        for try await chunk in response.body {
            received += chunk.readableBytes
            if received > 64 * 1024 { break }
        }
        return AttemptResponse(status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"))
    }

    /// The messages with `flagsUrl` completed from the base URL where their stored body holds a path only. The
    /// completed bodies are stored, all in one write, before any is sent, so every later attempt (after a restart too,
    /// on another port) re-sends the same bytes, as a body written whole at enqueue time would be.
    private func completingFlagsURLs(_ messages: [OutboxMessage]) async -> [OutboxMessage] {
        guard let base = self.flagsBaseURL?() else { return messages }
        var completed = messages
        var changed: [CompletedBody] = []
        for index in completed.indices {
            let body = WebhookPayload.resolvingFlagsURL(completed[index].body, base: base)
            guard body != completed[index].body else { continue }
            completed[index].body = body
            changed.append(CompletedBody(messageID: completed[index].messageID, body: body))
        }
        guard !changed.isEmpty else { return completed }
        do {
            try await self.database.storeCompletedBodies(changed)
        } catch {
            self.logger.error("Cannot store webhook bodies with their flagsUrl; sending them anyway", metadata: ["error": "\(error)"])
        }
        return completed
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
}

/// One attempt as it happened: when it started, how long it took, and the answer or why there was none.
private struct Attempt: Sendable {
    /// 1 for the first attempt of a message.
    var number: Int
    var startedAt: Date
    var durationSeconds: Double
    /// Nil when no answer was read.
    var response: AttemptResponse?
    /// Why there was no answer.
    var failure: String?
}

/// What an attempt means for its message, and the error the delivery log shows (nil for a delivery).
private struct Verdict: Sendable {
    var outcome: DeliveryOutcome
    var failure: String?
}

/// The answer to one attempt, once it was read to the end.
private struct AttemptResponse: Sendable {
    var status: Int
    var retryAfter: String?
}

/// The delivery metrics, created once per deliverer (after the app has bootstrapped its metrics backend).
private struct DeliveryMetrics: Sendable {
    /// `halyard_webhook_deliveries_total` by `result`, the same word as in the delivery log.
    let deliveries: [String: Counter]
    let duration: Metrics.Timer
    let propagation: Metrics.Timer

    init(factory: any MetricsFactory) {
        var deliveries: [String: Counter] = [:]
        for result in DeliveryOutcome.results {
            deliveries[result] = Counter(label: "halyard_webhook_deliveries_total", dimensions: [("result", result)], factory: factory)
        }
        self.deliveries = deliveries
        self.duration = Metrics.Timer(
            label: "halyard_webhook_delivery_duration_seconds",
            dimensions: [],
            preferredDisplayUnit: .seconds,
            factory: factory
        )
        self.propagation = Metrics.Timer(label: "halyard_propagation_seconds", dimensions: [], preferredDisplayUnit: .seconds, factory: factory)
    }

    func count(_ outcome: DeliveryOutcome) {
        self.deliveries[outcome.result]?.increment()
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
