import HalyardGit

/// Reads the change from a historic commit to the served snapshot, on its own thread with its own repository handle.
///
/// It never runs on the ``GitWorker``: a stream client's `Last-Event-ID` must not delay a fetch or an apply. It is
/// one serial actor, so at most one historic build runs at a time, whatever the number of clients. The historic
/// snapshot is built incrementally from the served one: only the blobs that differ between the two commits are read
/// and parsed.
actor HistoricChangeReader {
    private let executor = GitExecutor(label: "halyard.git.catch-up")
    private let source: WatcherConfiguration.Source
    private let dataDirectory: String
    private let loader: SnapshotLoader
    private var repository: Repository?

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(configuration: WatcherConfiguration) {
        self.source = configuration.source
        self.dataDirectory = configuration.dataDirectory
        self.loader = SnapshotLoader(flagsDirectory: configuration.flagsDirectory)
    }

    /// The change set from `old` to `served`, or nil when the repository does not have `old` (or cannot be read, or
    /// the flags at `old` do not load).
    func changes(from old: ObjectID, to served: Snapshot) -> ChangeSet? {
        guard let repository = open() else { return nil }
        guard let historic = try? loader.load(commit: old, from: repository, after: served) else { return nil }
        return ChangeSet.between(historic, served)
    }

    /// Opens the repository the watcher reads, read-only in practice: this handle only ever reads objects. Not
    /// remembered on failure, so a mirror that the worker has not cloned yet is opened on a later call.
    private func open() -> Repository? {
        if let repository { return repository }
        let opened: Repository?
        switch source {
        case .local(let path): opened = try? Repository.discover(from: path)
        case .remote: opened = try? Repository.open(at: dataDirectory + "/mirror.git")
        }
        repository = opened
        return opened
    }
}
