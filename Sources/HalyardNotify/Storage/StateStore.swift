//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardSync
import Synchronization

/// The webhook subscriptions and their delivery logs, as the HTTP routes use them (DESIGN §6, §7).
///
/// Implemented by the SQLite ``StateDatabase`` (one replica) and ``PostgresStateStore`` (several replicas, DESIGN §10);
/// nothing here names a database library. Every error is a ``NotifyError``.
public protocol SubscriptionStore: Sendable {
    /// Creates a dynamic subscription with a generated id (`sub_…`) and secret (`whsec_…`), after validating `url`
    /// against `policy` and the environment names.
    func createSubscription(url: String, environments: [String], policy: SubscriptionPolicy) async throws(NotifyError) -> Subscription
    /// All subscriptions, static and dynamic, oldest first.
    func subscriptions() async throws(NotifyError) -> [Subscription]
    /// The subscription with this id, or `nil`.
    func subscription(id: String) async throws(NotifyError) -> Subscription?
    /// Deletes a dynamic subscription with its pending messages and delivery log; a static one is refused
    /// (``NotifyError/Code/staticSubscriptionIsReadOnly``).
    func deleteSubscription(id: String) async throws(NotifyError)
    /// Makes the stored static subscriptions match the config file (ids derived from URL and environments).
    func replaceStaticSubscriptions(_ subs: [StaticSubscription]) async throws(NotifyError)
    /// The delivery log of a subscription, newest first; at most the last 100 attempts are kept.
    func deliveries(subscriptionID: String, limit: Int) async throws(NotifyError) -> [DeliveryAttempt]
}

/// The outbox of webhook messages and the applied commit, written together, as the watcher and the
/// ``WebhookDeliverer`` use them (DESIGN §7).
///
/// ``AppliedStateStore/recordApplied(_:changes:fetchedAt:)`` enqueues (coalescing with a pending message of the same
/// subscription and environment); the deliverer claims due messages, sends them, and completes each claim with its
/// outcome and a delivery-log entry in one transaction.
public protocol OutboxStore: AppliedStateStore {
    /// The number of messages waiting in the outbox.
    func pendingMessageCount() async throws(NotifyError) -> Int
    /// The messages waiting in the outbox, soonest due first, optionally only those of one subscription.
    func pendingMessages(subscriptionID: String?) async throws(NotifyError) -> [PendingMessage]
    /// Claims the messages to send now: at most one per subscription, none for `busySubscriptions`, at most `limit`.
    ///
    /// A store shared by several processes (PostgreSQL) marks each claimed message with a lease until `now + lease`,
    /// during which no other process claims it, nor another message of its subscription; once the lease has expired
    /// (its holder died mid-delivery) it can be claimed again. A store owned by one process (SQLite) needs no lease:
    /// the deliverer's `busySubscriptions` already keep a message from being sent twice at once.
    ///
    /// With `servedCommit`, the messages naming the commit recorded last are held back until that commit is served
    /// (DESIGN §7).
    func claimDueMessages(
        now: Date,
        busySubscriptions: Set<String>,
        limit: Int,
        lease: Duration,
        servedCommit: (@Sendable () -> String?)?
    ) async throws(NotifyError) -> ClaimedMessages
    /// Replaces a pending message's body with the one it is first sent with (`flagsUrl` completed); a message
    /// replaced or removed meanwhile is left alone.
    func storeCompletedBody(_ body: [UInt8], messageID: String) async throws(NotifyError)
    /// Stores several completed bodies (``storeCompletedBody(_:messageID:)`` for each), in one transaction where the
    /// store can; the deliverer stores a claimed batch's bodies at once before sending them.
    func storeCompletedBodies(_ bodies: [CompletedBody]) async throws(NotifyError)
    /// Applies the outcome of one attempt (remove, reschedule, or disable the subscription) and appends the attempt to
    /// the delivery log, in one transaction; the message's claim ends.
    func complete(_ message: OutboxMessage, attempt: DeliveryAttempt, outcome: DeliveryOutcome) async throws(NotifyError)
    /// Applies several outcomes (``complete(_:attempt:outcome:)`` for each, in order), in one transaction where the
    /// store can; the deliverer records the attempts that finish together at once.
    func complete(_ completions: [OutboxCompletion]) async throws(NotifyError)
    /// Registers a closure called after this store instance enqueued messages; the deliverer wakes itself with it.
    func addEnqueueObserver(_ observer: @escaping @Sendable () -> Void) -> Int
    /// Removes an observer registered with ``addEnqueueObserver(_:)``.
    func removeEnqueueObserver(_ token: Int)
}

/// Everything `halyard serve` keeps: the applied commit, the outbox, subscriptions and delivery logs.
///
/// ``StateDatabase`` (SQLite, the default) and ``PostgresStateStore`` (`state.url`, DESIGN §10) implement it.
public protocol StateStore: SubscriptionStore, OutboxStore {
    /// Where the state lives, for logs and errors: a file path or a URL without password.
    var location: String { get }
}

/// The answer to ``OutboxStore/claimDueMessages(now:busySubscriptions:limit:lease:servedCommit:)``.
public struct ClaimedMessages: Sendable {
    /// The messages to send now, claimed for this caller.
    public var messages: [OutboxMessage]
    /// When the next message becomes due (or a lease expires); `nil` when none waits or when `limit` was reached.
    public var nextDue: Date?
    /// Whether a due message was held back because the commit it names is not served yet.
    public var heldBack: Bool

    /// Creates an answer.
    public init(messages: [OutboxMessage], nextDue: Date?, heldBack: Bool) {
        self.messages = messages
        self.nextDue = nextDue
        self.heldBack = heldBack
    }
}

/// A message claimed for one delivery attempt, with what is needed to send it.
public struct OutboxMessage: Sendable {
    /// The `webhook-id`.
    public var messageID: String
    /// The subscription it goes to.
    public var subscriptionID: String
    /// The subscription's URL.
    public var url: String
    /// The subscription's signing secret.
    public var secret: String
    /// The environment the message is about.
    public var environment: String
    /// The commit it announces.
    public var commit: String
    /// The exact request body.
    public var body: [UInt8]
    /// When it was first enqueued (the maximum age counts from here).
    public var enqueuedAt: Date
    /// When the commit it announces was fetched.
    public var fetchedAt: Date
    /// The attempts made so far.
    public var attempts: Int
    /// The claim's token in a shared store, so only its holder releases it; `nil` in a store owned by one process.
    public var claim: String? = nil
}

/// What happened to one delivery attempt, and so what to do with the message.
public enum DeliveryOutcome: Sendable {
    /// 2xx: remove the message.
    case delivered
    /// Try again at this time.
    case retry(at: Date)
    /// Given up after the maximum age: remove the message.
    case dead
    /// 410 Gone: disable the subscription and drop its pending messages.
    case gone

    /// The word of the delivery log and of the `result` label of `halyard_webhook_deliveries_total`.
    public var result: String {
        switch self {
        case .delivered: "delivered"
        case .retry: "failed"
        case .dead: "dead"
        case .gone: "disabled"
        }
    }

    /// Every ``result``.
    static let results = ["delivered", "failed", "dead", "disabled"]
}

/// The closures to call after a store instance enqueued messages (``OutboxStore/addEnqueueObserver(_:)``).
final class EnqueueObservers: Sendable {
    private let state = Mutex<(next: Int, observers: [Int: @Sendable () -> Void])>((0, [:]))

    func add(_ observer: @escaping @Sendable () -> Void) -> Int {
        self.state.withLock { state in
            state.next += 1
            state.observers[state.next] = observer
            return state.next
        }
    }

    func remove(_ token: Int) {
        _ = self.state.withLock { $0.observers.removeValue(forKey: token) }
    }

    func notify() {
        for observer in self.state.withLock({ Array($0.observers.values) }) {
            observer()
        }
    }
}
