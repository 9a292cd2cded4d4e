import HalyardGit
import HalyardRules

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Owns the flag repository and runs every blocking libgit2 call on its own thread.
///
/// The `Repository` handle never leaves this actor, and the actor's executor is a dedicated thread, so a slow fetch
/// never blocks Swift's cooperative pool (two threads on a two-core machine).
actor GitWorker {
    private let executor = GitExecutor(label: "halyard.git")
    private let source: WatcherConfiguration.Source
    private let dataDirectory: String
    private let credentials: Credentials?
    private let trust: RemoteTrust
    private let loader: SnapshotLoader
    private let signatures: SignaturePolicy
    private var configuredBranch: String?
    private var repository: Repository?

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(configuration: WatcherConfiguration) {
        self.source = configuration.source
        self.dataDirectory = configuration.dataDirectory
        self.credentials = configuration.credentials
        self.trust = configuration.trust
        self.loader = SnapshotLoader(flagsDirectory: configuration.flagsDirectory)
        self.signatures = configuration.signatures
        self.configuredBranch = configuration.branch
    }

    var isRemote: Bool {
        if case .remote = source { return true }
        return false
    }

    /// Opens the local repository, or opens (or clones) the mirror of the remote one.
    func prepare() throws(GitError) -> Repository {
        if let repository { return repository }
        let opened: Repository
        switch source {
        case .local(let path):
            opened = try Repository.discover(from: path)
        case .remote(let url):
            let mirrorPath = dataDirectory + "/mirror.git"
            if FileManager.default.fileExists(atPath: mirrorPath), let existing = try? Repository.open(at: mirrorPath),
                (try? existing.remoteURL("origin")) == url
            {
                opened = existing
            } else {
                try? FileManager.default.removeItem(atPath: mirrorPath)
                try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
                opened = try Repository.cloneMirror(from: url, to: mirrorPath, credentials: credentials, trust: trust)
            }
        }
        repository = opened
        return opened
    }

    /// Fetches the remote (remote mode only).
    func fetch() throws(GitError) {
        let repository = try prepare()
        if case .remote = source {
            _ = try repository.fetch(remote: "origin", credentials: credentials, trust: trust)
        }
    }

    /// The branch the watcher follows.
    func branch() throws(GitError) -> String? {
        if let configuredBranch { return configuredBranch }
        let repository = try prepare()
        let branch: String?
        switch source {
        case .local: branch = try repository.currentBranch()
        case .remote:
            if let remoteHead = try repository.defaultRemoteBranch() {
                branch = remoteHead
            } else {
                branch = try repository.currentBranch()
            }
        }
        configuredBranch = branch
        return branch
    }

    /// The commit at the tip of the followed branch, or nil when the branch has no commit yet.
    func tip() throws(GitError) -> ObjectID? {
        let repository = try prepare()
        guard let branch = try branch() else { return nil }
        return try repository.referenceTarget("refs/heads/" + branch)
    }

    /// Loads the snapshot at `commit`, incrementally from `previous` when given.
    ///
    /// With a signature policy, a commit to apply (`verifyingSignature`) without a valid signature by a listed key is
    /// invalid: the error carries the signature finding, so the watcher rejects it like an invalid flag set.
    ///
    /// A full load (no `previous`) closes the repository handle afterwards; the next call opens it again. libgit2
    /// keeps up to 16 MiB of decompressed delta bases for each pack that a handle has open, and a full load fills that
    /// cache with bases that later, incremental loads rarely need: on a 30,000-flag repository it was 14 MB of the
    /// service's resident memory for good.
    func load(commit: ObjectID, after previous: Snapshot?, verifyingSignature: Bool = true) throws(SnapshotError) -> Snapshot {
        if verifyingSignature && signatures.isEnabled,
            case .failed(let failure) = try signatures.check(commit: commit, in: openRepository())
        {
            throw .invalid([failure.diagnostic(commit: commit.hex)])
        }
        if let previous {
            return try loader.load(commit: commit, from: openRepository(), after: previous)
        }
        defer {
            repository = nil
            FreedMemory.release()
        }
        return try loader.load(commit: commit, from: openRepository())
    }

    /// ``prepare()`` for loading, its error as a snapshot error.
    private func openRepository() throws(SnapshotError) -> Repository {
        do { return try prepare() } catch { throw .git(error) }
    }

    /// Loads the snapshot at a commit given as hex, or nil when the repository does not have it. The commit was
    /// applied before (the persisted one), so its signature is not checked again.
    func load(commitHex: String) -> Snapshot? {
        guard let id = ObjectID(hex: commitHex) else { return nil }
        return try? load(commit: id, after: nil, verifyingSignature: false)
    }

    /// The bytes of a blob, or nil when the repository does not have it.
    func blob(_ id: ObjectID) -> [UInt8]? {
        guard let repository = try? prepare() else { return nil }
        return try? repository.blob(id)
    }
}
