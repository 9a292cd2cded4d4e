import Foundation
import HalyardGit
import Testing

/// An actor whose methods, and so its libgit2 calls, run on a ``GitExecutor``.
actor GitWorker {
    let executor: GitExecutor
    let repository: Repository

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(path: String, executor: GitExecutor) throws(GitError) {
        self.executor = executor
        repository = try Repository.open(at: path)
    }

    /// HEAD's commit, and whether this ran on the executor's queue.
    func head() throws(GitError) -> (id: ObjectID, onExecutor: Bool) {
        (try repository.resolveCommit("HEAD"), executor.isCurrent)
    }

    /// Fetches, and reports whether this ran on the executor's queue.
    func fetch() throws(GitError) -> (result: FetchResult, onExecutor: Bool) {
        (try repository.fetch(), executor.isCurrent)
    }
}

struct GitExecutorTests {
    @Test func runsActorMethodsOffTheCooperativePool() async throws {
        try await GitSandbox.with { sandbox in
            try sandbox.initRepository("upstream")
            let head = try sandbox.commit("First", in: "upstream")
            try sandbox.git("clone", "-q", "--bare", sandbox.path("upstream"), sandbox.path("clone.git"), in: "")

            let executor = GitExecutor(label: "halyard.git.test")
            #expect(!executor.isCurrent)
            let worker = try GitWorker(path: sandbox.path("clone.git"), executor: executor)

            let result = try await worker.head()
            #expect(result.id == head)
            #expect(result.onExecutor)

            // Several actors on their own executors, in parallel; the test task itself stays on the pool.
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<4 {
                    let worker = try GitWorker(path: sandbox.path("clone.git"), executor: GitExecutor(label: "halyard.git.\(index)"))
                    group.addTask { try await worker.fetch().onExecutor }
                }
                var outcomes = [Bool]()
                for try await outcome in group {
                    outcomes.append(outcome)
                }
                return outcomes
            }
            #expect(outcomes == [true, true, true, true])
            #expect(!executor.isCurrent)
        }
    }
}
