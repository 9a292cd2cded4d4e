//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import CoreMetrics
import HalyardRules
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// The flags of one Halyard environment, kept in memory and evaluated in-process (DESIGN §11).
///
/// A client starts with the flag set of its cache file, if any, so the application has flags even while Halyard is
/// down. Run it as a `Service` (in the application's `ServiceGroup`): it fetches `GET /v1/environments/{env}/flags`
/// with `If-None-Match` and then keeps the flags current in the configured ``UpdateMode``: an event stream (the
/// default), verified refresh calls (``handleRefreshCall(_:)``) or polling. Every new flag set replaces the old one
/// whole and is written to the cache file.
///
/// Evaluation never throws and never waits for the network: an unknown flag, a value of another type or a client
/// without flags yet gives the caller's default, and the `…Details` forms say why.
///
/// ```swift
/// let client = try HalyardClient(configuration: HalyardClientConfiguration(
///     baseURL: "http://127.0.0.1:8080", environment: "production", cacheFile: "/var/cache/shop/flags.json"))
/// let group = ServiceGroup(services: [client, app], gracefulShutdownSignals: [.sigterm], logger: logger)
/// // in a request handler:
/// if client.bool("new-checkout", default: false, context: ["userId": "u-42", "plan": "enterprise"]) { … }
/// ```
public final class HalyardClient: Service, Sendable {
    /// The configuration the client was made with.
    public let configuration: HalyardClientConfiguration

    let cell: FlagSetCell
    private let httpClient: HTTPClient
    private let logger: Logger
    private let fetcher: FlagFetcher
    private let cache: CacheFile?
    private let verifier: WebhookVerifier?
    private let broadcaster = ChangeBroadcaster()
    private let ready = ReadySignal()
    private let metrics: ClientMetrics
    private let lastSync = Mutex<ContinuousClock.Instant?>(nil)
    private let lastEventID = Mutex<String?>(nil)
    private let refresher: Mutex<RefreshCoalescer?> = Mutex(nil)

    /// Makes a client and reads its cache file; nothing is fetched until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: Where Halyard is and how to follow it.
    ///   - httpClient: The client for Halyard's routes; `HTTPClient.shared` by default. The caller shuts down a client
    ///     it passes.
    ///   - logger: Where the client logs fetch and stream failures and an unusable cache file.
    /// - Throws: ``HalyardClientError`` when the base URL is not `http(s)://…`, the environment is empty, a webhook
    ///   secret is malformed or ``UpdateMode/webhook`` has no secret. An unusable cache file is logged, not thrown.
    public init(
        configuration: HalyardClientConfiguration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "halyard.client")
    ) throws(HalyardClientError) {
        guard configuration.baseURL.hasPrefix("http://") || configuration.baseURL.hasPrefix("https://") else {
            throw HalyardClientError(.invalidConfiguration, subject: "baseURL", message: "\"\(configuration.baseURL)\" is not an http:// or https:// URL")
        }
        guard !configuration.environment.isEmpty else {
            throw HalyardClientError(.invalidConfiguration, subject: "environment", message: "the environment must not be empty")
        }
        if case .poll(let interval) = configuration.updateMode, interval <= .zero {
            throw HalyardClientError(.invalidConfiguration, subject: "updateMode", message: "the poll interval must be positive")
        }
        if configuration.updateMode == .webhook && configuration.webhookSecrets.isEmpty {
            throw HalyardClientError(.invalidConfiguration, subject: "webhookSecrets", message: "the webhook update mode needs at least one secret")
        }
        self.configuration = configuration
        self.httpClient = httpClient
        var logger = logger
        logger[metadataKey: "environment"] = "\(configuration.environment)"
        self.logger = logger
        self.fetcher = FlagFetcher(httpClient: httpClient, configuration: configuration)
        self.verifier = configuration.webhookSecrets.isEmpty
            ? nil : try WebhookVerifier(secrets: configuration.webhookSecrets, tolerance: configuration.webhookTolerance)
        self.metrics = ClientMetrics(environment: configuration.environment)
        self.cache = configuration.cacheFile.map {
            CacheFile(path: $0, baseURL: configuration.trimmedBaseURL, environment: configuration.environment)
        }
        var initial: FlagSet?
        if let cache {
            do {
                initial = try cache.read()
                if let initial {
                    logger.info("started from the cache file", metadata: ["file": "\(cache.path)", "commit": "\(initial.commit)"])
                }
            } catch {
                logger.warning("\(error)")
            }
        }
        self.cell = FlagSetCell(initial)
        if initial != nil { ready.markReady() }
        let coalescer = RefreshCoalescer { [weak self] in await self?.fetchOnce() }
        refresher.withLock { $0 = coalescer }
    }

    // MARK: - State

    /// The flag set evaluations use now; `nil` before the first one.
    public var flagSet: FlagSet? { cell.value }

    /// Whether the client has flags, from the cache file or from Halyard.
    public var isReady: Bool { ready.isReady }

    /// Waits until the client has flags (from the cache file or from Halyard), for at most `timeout`.
    ///
    /// - Throws: ``HalyardClientError/Kind/notReady`` when `timeout` passes first. Evaluation works either way; it
    ///   gives the callers' defaults until flags arrive.
    public func waitUntilReady(timeout: Duration) async throws(HalyardClientError) {
        if ready.isReady { return }
        let isReady = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [ready] in
                await ready.wait()
                return ready.isReady
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard isReady || ready.isReady else {
            throw HalyardClientError(
                .notReady, subject: configuration.flagsURL, message: "no flags after \(timeout): Halyard did not answer and there is no cache file")
        }
    }

    /// The changes of the flag set from now on: environment, commit and the ids of the flags that were added,
    /// removed or changed. Each access makes a new sequence; it ends when the client stops.
    ///
    /// ```swift
    /// for await change in client.changes where change.changed.contains("new-checkout") { … }
    /// ```
    public var changes: AsyncStream<FlagChange> { broadcaster.subscribe() }

    // MARK: - Running

    /// Fetches the flags, then follows Halyard in the configured ``UpdateMode`` until the task is cancelled or the
    /// service group shuts down gracefully. Failures are logged and counted, never thrown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.recordSyncAge() }
                group.addTask {
                    switch self.configuration.updateMode {
                    case .stream: await self.followStream()
                    case .webhook: await self.fetchUntilFirstSuccess()
                    case .poll(let interval): await self.poll(every: interval)
                    }
                    // The webhook mode waits for refresh calls; the others only return when cancelled.
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
                await group.next()
                group.cancelAll()
            }
        }
        broadcaster.finish()
    }

    /// Fetches the flags now, with `If-None-Match`, unless a fetch that has not started yet is already asked for;
    /// returns when that fetch is done. Failures are logged and counted.
    public func refresh() async {
        await refresher.withLock { $0 }?.refresh()
    }

    /// One conditional fetch; applies a new set.
    private func fetchOnce() async {
        do {
            switch try await fetcher.fetch(current: cell.value) {
            case .notModified:
                break
            case .modified(let set):
                apply(set)
            }
            lastSync.withLock { $0 = .now }
            metrics.syncAge.record(0)
        } catch {
            metrics.fetchErrors.increment()
            logger.warning("cannot fetch the flags", metadata: ["url": "\(configuration.flagsURL)", "error": "\(error)"])
        }
    }

    /// Swaps in `set`, tells the waiters and the ``changes`` readers, and writes the cache file.
    private func apply(_ set: FlagSet) {
        let old = cell.replace(set)
        ready.markReady()
        if let old, old.digest == set.digest { return }
        if let cache {
            do {
                try cache.write(set)
            } catch {
                logger.error("\(error)")
            }
        }
        logger.debug("flags updated", metadata: ["commit": "\(set.commit)"])
        broadcaster.yield(set.change(from: old))
    }

    /// Swaps in `set` as a fetch would (cache file, ``changes``), for benchmarks that apply flag sets without a server.
    @_spi(Benchmarks)
    public func install(_ set: FlagSet) {
        apply(set)
    }

    private var hasSucceeded: Bool { lastSync.withLock { $0 != nil } }

    /// Fetches with backoff until one fetch succeeds (webhook mode: later fetches are triggered by refresh calls).
    private func fetchUntilFirstSuccess() async {
        var backoff = ReconnectBackoff(configuration.reconnectBackoff)
        while !Task.isCancelled {
            await refresh()
            if hasSucceeded { return }
            try? await Task.sleep(for: backoff.next())
        }
    }

    private func poll(every interval: Duration) async {
        while !Task.isCancelled {
            await refresh()
            try? await Task.sleep(for: interval)
        }
    }

    private func recordSyncAge() async {
        while !Task.isCancelled {
            if let last = lastSync.withLock({ $0 }) {
                let age = ContinuousClock.now - last
                metrics.syncAge.record(Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Event stream

    /// Keeps an event stream open, fetching on each `flags-changed` event; while it is down, polls every
    /// ``HalyardClientConfiguration/streamFallbackPollInterval`` and reconnects after a growing, jittered wait.
    private func followStream() async {
        await refresh()
        var backoff = ReconnectBackoff(configuration.reconnectBackoff)
        while !Task.isCancelled {
            var wasConnected = false
            do {
                try await streamOnce { wasConnected = true }
            } catch {
                if Task.isCancelled { break }
                metrics.streamErrors.increment()
                logger.info("the event stream is down", metadata: ["url": "\(configuration.streamURL)", "error": "\(error)"])
            }
            if Task.isCancelled { break }
            if wasConnected { backoff.reset() }
            await pollWhileDown(for: backoff.next())
        }
    }

    /// Polls now and then every fallback interval until `wait` has passed.
    private func pollWhileDown(for wait: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        await refresh()
        while !Task.isCancelled, clock.now < deadline {
            try? await Task.sleep(for: min(configuration.streamFallbackPollInterval, deadline - clock.now))
            if clock.now < deadline { await refresh() }
        }
    }

    /// One connection of the event stream, until it breaks or goes silent for longer than the idle timeout.
    private func streamOnce(connected: () -> Void) async throws {
        var request = HTTPClientRequest(url: configuration.streamURL)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let token = configuration.readToken {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        // The commit of the flags held is what the client has seen, whether a fetch or an event brought it.
        if let seen = cell.value?.commit ?? lastEventID.withLock({ $0 }) {
            request.headers.add(name: "Last-Event-ID", value: seen)
        }
        let response = try await httpClient.execute(request, timeout: configuration.requestTimeout.timeAmount)
        guard response.status == .ok else {
            throw HalyardClientError(.badResponse, subject: configuration.streamURL, message: "Halyard answered \(response.status.code)")
        }
        connected()
        let lastActivity = LastActivity()
        let idleTimeout = configuration.streamIdleTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var parser = EventStreamParser()
                for try await chunk in response.body {
                    lastActivity.touch()
                    for event in parser.feed(chunk.readableBytesView) {
                        await self.handle(event)
                    }
                }
                throw HalyardClientError(.badResponse, subject: self.configuration.streamURL, message: "Halyard closed the event stream")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: idleTimeout / 4)
                    let silent = lastActivity.silence
                    if silent > idleTimeout {
                        throw HalyardClientError(
                            .badResponse, subject: self.configuration.streamURL, message: "the event stream was silent for \(silent)")
                    }
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func handle(_ event: ServerSentEvent) async {
        guard event.type == "flags-changed" else { return }
        if let id = event.id { lastEventID.withLock { $0 = id } }
        let data = try? JSONValue.parse(event.data)
        if case .string(let environment)? = data?["environment"], environment != configuration.environment { return }
        // No shortcut on the commit: a break-glass override changes the flags at the same commit. The fetch is
        // conditional (`If-None-Match`), so an event about what the client has already costs a 304.
        await refresh()
    }

    // MARK: - Refresh calls

    /// Checks a refresh call that Halyard sent to the application (Standard Webhooks) and, when it is authentic, fresh,
    /// new and concerns this environment, fetches the flags; returns when the fetch is done.
    ///
    /// A call that fails verification changes nothing. ``RefreshCallOutcome/httpStatus`` is the status to answer
    /// with: `204` for an accepted or already seen call, `401` for a bad signature or timestamp, `400` for a body that
    /// is not a Halyard change. `HalyardClientHummingbird` wires this to a route.
    public func handleRefreshCall(_ call: RefreshCall) async -> RefreshCallOutcome {
        guard let verifier else {
            metrics.verified(.invalidSignature)
            return .unauthorized(.invalidSignature)
        }
        let result = verifier.check(id: call.id, timestamp: call.timestamp, signature: call.signature, body: call.body)
        guard result == .valid else {
            metrics.verified(result)
            logger.notice("refused a refresh call", metadata: ["result": "\(result.rawValue)", "webhook-id": "\(call.id ?? "")"])
            return .unauthorized(result)
        }
        let change: (environment: String, commit: String)
        do throws(RefreshCallBodyError) {
            change = try RefreshCallBody.parse(call.body)
        } catch {
            metrics.verified(.valid)
            return .badRequest(error.message)
        }
        guard verifier.remember(call.id ?? "", timestamp: call.timestamp ?? "") else {
            metrics.verified(.replayed)
            return .duplicate
        }
        metrics.verified(.valid)
        guard change.environment == configuration.environment else { return .accepted }
        // Also for the commit the client has: a break-glass override is published with the served commit as both
        // `commit` and `previousCommit`. The fetch is conditional, so a call about what the client has costs a 304.
        await refresh()
        return .accepted
    }
}

/// When the event stream last delivered bytes, shared by its reader and its idle watchdog.
private final class LastActivity: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func touch() {
        instant.withLock { $0 = .now }
    }

    /// How long the stream has been silent.
    var silence: Duration { ContinuousClock.now - instant.withLock { $0 } }
}
