import Dispatch

/// A serial executor that runs jobs on its own dispatch queue, off Swift's cooperative thread pool.
///
/// libgit2 calls block their thread: a fetch can take seconds, a large diff a while. The cooperative pool has one
/// thread per core (two on a small server), so an actor that calls libgit2 on it can stall every other task. Give such
/// an actor a `GitExecutor`; its methods then run on a dedicated thread, one at a time, which also satisfies libgit2's
/// rule that one repository handle is used by one thread at a time.
///
/// ```swift
/// actor FlagSource {
///     private let executor = GitExecutor(label: "halyard.git")
///     nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
///     private let repository: Repository
///
///     init(path: String) throws(GitError) { repository = try Repository.open(at: path) }
///     func fetch() throws(GitError) -> FetchResult { try repository.fetch() }
/// }
/// ```
public final class GitExecutor: SerialExecutor {
    private let queue: DispatchQueue
    private static let key = DispatchSpecificKey<UInt>()

    /// Creates an executor with its own serial queue named `label` (shown in debuggers and crash logs).
    public init(label: String) {
        queue = DispatchQueue(label: label)
        queue.setSpecific(key: Self.key, value: identity)
    }

    /// Whether the calling code runs on this executor's queue.
    public var isCurrent: Bool {
        DispatchQueue.getSpecific(key: Self.key) == identity
    }

    /// Schedules `job` on the queue.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    /// This executor, for an actor's `unownedExecutor`.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Traps unless called on this executor's queue; lets `assumeIsolated` and `preconditionIsolated` work.
    public func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }

    private var identity: UInt {
        UInt(bitPattern: ObjectIdentifier(self))
    }
}
