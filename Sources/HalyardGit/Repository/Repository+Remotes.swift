internal import CLibgit2
import Foundation

extension Repository {
    /// The refspec of a mirror: the remote's branches are the mirror's own branches, force-updated on every fetch.
    static let mirrorRefspec = "+refs/heads/*:refs/heads/*"

    /// Clones `url` into a new bare mirror at `path`, the service's private copy of the flag repository.
    ///
    /// The remote is named "origin" and fetches with ``mirrorRefspec``, so `refs/heads/<branch>` follows the remote's
    /// branch on every ``fetch(remote:credentials:)``, force-pushes included, and branches deleted upstream disappear.
    /// HEAD names the remote's HEAD branch (see ``defaultRemoteBranch()``). `url` may be a local path, `file://`,
    /// `https://` or `ssh://`; `trust` names a private CA for HTTPS and a known_hosts file for SSH (``RemoteTrust``).
    /// `path` must not exist or be an empty directory; on failure it is removed again.
    ///
    /// ```swift
    /// let mirror = try Repository.cloneMirror(from: "https://github.com/acme/flags.git", to: ".halyard/mirror.git",
    ///                                          credentials: .token(token))
    /// let tip = try mirror.referenceTarget("refs/heads/main")
    /// ```
    public static func cloneMirror(
        from url: String,
        to path: String,
        credentials: Credentials?,
        trust: RemoteTrust = RemoteTrust()
    ) throws(GitError) -> Repository {
        ensureLibgit2()
        let operation = "clone \(url) into \(path)"
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let existed = fileManager.fileExists(atPath: path, isDirectory: &isDirectory)
        if existed {
            let contents = isDirectory.boolValue ? (try? fileManager.contentsOfDirectory(atPath: path)) : nil
            guard contents?.isEmpty == true else {
                throw .halyard(GIT_EEXISTS, GIT_ERROR_INVALID, "'\(path)' exists and is not an empty directory", operation: operation)
            }
        }
        do {
            var options = git_repository_init_options()
            try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)), operation)
            options.flags =
                GIT_REPOSITORY_INIT_BARE.rawValue | GIT_REPOSITORY_INIT_MKPATH.rawValue | GIT_REPOSITORY_INIT_NO_REINIT.rawValue
            var pointer: OpaquePointer?
            try check(git_repository_init_ext(&pointer, path, &options), operation)
            let repository = Repository.wrapping(pointer!)
            var remote: OpaquePointer?
            try check(git_remote_create_with_fetchspec(&remote, repository.pointer, "origin", url, mirrorRefspec), operation)
            git_remote_free(remote)
            if let source = localPath(of: url) {
                shareObjects(from: source, into: repository.path + "/objects")
            }
            _ = try repository.fetch(remote: "origin", credentials: credentials, trust: trust, operation: operation)
            return repository
        } catch {
            if existed {
                for name in (try? fileManager.contentsOfDirectory(atPath: path)) ?? [] {
                    try? fileManager.removeItem(atPath: (path as NSString).appendingPathComponent(name))
                }
            } else {
                try? fileManager.removeItem(atPath: path)
            }
            throw error
        }
    }

    /// Fetches from `remote` with pruning: branches deleted upstream are deleted here, force-pushes are taken.
    ///
    /// Blocks the calling thread for the whole transfer; call it on a ``GitExecutor``. Credentials are offered at most
    /// ``RemoteCallbacks/maximumAttempts`` times. An untrusted TLS certificate or SSH host key, or rejected credentials,
    /// throw a ``GitError`` that says so (``GitError/isCertificateFailure``, ``GitError/isAuthenticationFailure``).
    /// For a mirror, HEAD is moved to the remote's HEAD branch if that changed. `trust` adds a CA file for HTTPS and a
    /// known_hosts file for SSH (``RemoteTrust``).
    @discardableResult
    public func fetch(remote: String = "origin", credentials: Credentials? = nil, trust: RemoteTrust = RemoteTrust()) throws(GitError) -> FetchResult {
        try fetch(remote: remote, credentials: credentials, trust: trust, operation: nil)
    }

    /// The URL of the remote `name`, nil when there is no such remote.
    public func remoteURL(_ name: String) throws(GitError) -> String? {
        var remote: OpaquePointer?
        let result = git_remote_lookup(&remote, pointer, name)
        if result == GIT_ENOTFOUND.rawValue { return nil }
        try check(result, "read remote '\(name)' in \(displayPath)")
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    // MARK: - Internal

    private func fetch(remote name: String, credentials: Credentials?, trust: RemoteTrust, operation: String?) throws(GitError) -> FetchResult {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, pointer, name), operation ?? "fetch from remote '\(name)' into \(displayPath)")
        defer { git_remote_free(remote) }
        let url = String(gitString: git_remote_url(remote))
        let operation = operation ?? "fetch from '\(name)' (\(url)) into \(displayPath)"

        var options = git_fetch_options()
        try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), operation)
        options.prune = GIT_FETCH_PRUNE
        if let caFile = trust.certificateAuthorityFile, url.lowercased().hasPrefix("https://") {
            try CertificateAuthorities.trust(file: caFile, operation: operation)
        }
        let callbacks = RemoteCallbacks(url: url, credentials: credentials, trust: trust)
        callbacks.install(in: &options.callbacks)
        let result = withExtendedLifetime(callbacks) {
            git_remote_fetch(remote, nil, &options, "halyard: fetch")
        }
        if result < 0 {
            var error = callbacks.error(for: result, operation: operation)
            if let localPath = Self.localPath(of: url), !FileManager.default.fileExists(atPath: localPath) {
                error.message = "the remote repository '\(localPath)' does not exist (\(error.message))"
            }
            throw error
        }
        let stats = git_remote_stats(remote).pointee
        try adoptRemoteHEAD(remote!, operation: operation)
        return FetchResult(receivedObjects: Int(stats.received_objects), receivedBytes: Int(stats.received_bytes))
    }

    /// Points a mirror's HEAD at the branch the remote's HEAD names, as the remote advertised it in the last fetch.
    private func adoptRemoteHEAD(_ remote: OpaquePointer, operation: String) throws(GitError) {
        guard isBare, try isMirror(remote: String(gitString: git_remote_name(remote))) else { return }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        guard git_remote_default_branch(&buffer, remote) == 0 else { return }  // an empty remote or a detached HEAD
        let branch = String(gitString: buffer.ptr)
        guard branch.hasPrefix("refs/heads/"), try symbolicTarget(of: "HEAD") != branch else { return }
        try check(git_repository_set_head(pointer, branch), operation)
    }

    /// Hard-links, or else copies, the object files of the local repository at `source` into a new mirror's object
    /// directory, before its first fetch, as `git clone --local` does: the fetch then finds every object already there
    /// and transfers none. libgit2's local transport otherwise builds a pack with a delta search for the whole history
    /// (25 s of CPU for 30,000 flags and 1,000 commits). Best effort: whatever is not linked or copied, the fetch
    /// transfers as before. Temporary files, symbolic links, `info/` (alternates, the commit graph) and the
    /// multi-pack index (it must not name a pack that failed to copy) are left out.
    static func shareObjects(from source: String, into objects: String) {
        guard let sourceRepository = try? Repository.open(at: source) else { return }
        let sourceObjects = sourceRepository.path + "/objects"
        let fileManager = FileManager.default
        guard let names = fileManager.enumerator(atPath: sourceObjects) else { return }
        for case let relative as String in names {
            let name = (relative as NSString).lastPathComponent
            guard relative != "info", !relative.hasPrefix("info/"), !name.hasPrefix("tmp_"), !name.hasPrefix("."),
                !name.hasPrefix("multi-pack-index")
            else { continue }
            let from = sourceObjects + "/" + relative
            let to = objects + "/" + relative
            guard let type = (try? fileManager.attributesOfItem(atPath: from))?[.type] as? FileAttributeType else { continue }
            if type == .typeDirectory {
                try? fileManager.createDirectory(atPath: to, withIntermediateDirectories: true)
            } else if type == .typeRegular, !fileManager.fileExists(atPath: to) {
                if (try? fileManager.linkItem(atPath: from, toPath: to)) == nil {
                    try? fileManager.copyItem(atPath: from, toPath: to)
                }
            }
        }
    }

    /// The file system path of a local remote URL (a path or `file://`), nil for network URLs and scp-style `host:path`.
    static func localPath(of url: String) -> String? {
        if url.hasPrefix("file://") {
            return String(url.dropFirst("file://".count))
        }
        if url.contains("://") {
            return nil
        }
        return url.hasPrefix("/") || url.hasPrefix(".") || !url.contains(":") ? url : nil
    }

    /// Whether the remote `name` fetches with ``mirrorRefspec``.
    func isMirror(remote name: String) throws(GitError) -> Bool {
        var remote: OpaquePointer?
        let result = git_remote_lookup(&remote, pointer, name)
        if result == GIT_ENOTFOUND.rawValue { return false }
        try check(result, "read remote '\(name)' in \(displayPath)")
        defer { git_remote_free(remote) }
        var refspecs = git_strarray()
        try check(git_remote_get_fetch_refspecs(&refspecs, remote), "read remote '\(name)' in \(displayPath)")
        defer { git_strarray_dispose(&refspecs) }
        return (0..<refspecs.count).contains { String(gitString: refspecs.strings[$0]) == Self.mirrorRefspec }
    }
}
