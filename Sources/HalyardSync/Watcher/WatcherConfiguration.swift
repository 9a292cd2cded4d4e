import HalyardGit

/// How the watcher finds, follows and checks the flag repository.
public struct WatcherConfiguration: Sendable {
    /// Where the flags come from.
    public enum Source: Sendable, Equatable {
        /// The repository around this path; the branch is watched without a fetch.
        case local(path: String)
        /// Another repository (URL or path), mirrored into the data directory and fetched.
        case remote(url: String)
    }

    /// Where the flags come from.
    public var source: Source
    /// The branch to follow; nil means the current branch (local) or the remote's HEAD (remote).
    public var branch: String?
    /// The directory of the flag files inside the repository.
    public var flagsDirectory: String
    /// How often a remote is fetched.
    public var pollInterval: Duration
    /// How often a local repository's branch is checked.
    public var localPollInterval: Duration
    /// Where the mirror and the state database live.
    public var dataDirectory: String
    /// How to authenticate to a remote; nil for none.
    public var credentials: Credentials?
    /// A private CA for an HTTPS remote and the known_hosts file for an SSH one (`repo.tls.caFile`, `repo.auth.knownHosts`).
    public var trust: RemoteTrust
    /// The delay after the first failed fetch (jittered down to half of it); it doubles with each further failure.
    public var initialBackoff: Duration
    /// The largest delay between retries of a failing fetch.
    public var maxBackoff: Duration
    /// With a shared store (PostgreSQL, DESIGN §10): how often a replica that does not publish tries the publisher lock,
    /// and how often the publisher checks it still holds it. A dead publisher is replaced within about this long.
    public var publisherLockRetry: Duration = .seconds(1)
    /// With a shared store: the largest delay between retries of a publication that failed (the database is down).
    public var maxPublicationBackoff: Duration = .seconds(5)

    /// Creates a configuration; the defaults follow the local branch of the repository around the working directory.
    public init(
        source: Source = .local(path: "."),
        branch: String? = nil,
        flagsDirectory: String = "flags",
        pollInterval: Duration = .seconds(30),
        localPollInterval: Duration = .seconds(1),
        dataDirectory: String = ".halyard",
        credentials: Credentials? = nil,
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(300),
        trust: RemoteTrust = RemoteTrust()
    ) {
        self.source = source
        self.branch = branch
        self.flagsDirectory = flagsDirectory
        self.pollInterval = pollInterval
        self.localPollInterval = localPollInterval
        self.dataDirectory = dataDirectory
        self.credentials = credentials
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.trust = trust
    }
}
