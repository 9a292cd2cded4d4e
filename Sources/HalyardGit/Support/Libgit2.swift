internal import CLibgit2

/// libgit2's process-wide set-up, run exactly once (Swift initialises globals lazily, with `swift_once`).
///
/// Owner validation is switched off because the service's mirror directories may belong to another uid than the process
/// (volumes, containers); libgit2 would otherwise refuse them with a misleading "safe.directory" error.
/// Strict hash verification on every object read is switched off too: it re-hashes each object with the slow,
/// collision-detecting SHA-1, which tripled the cost of reading a tree of 10,000 flags. git itself does not verify on
/// read either; objects are verified when a fetch indexes the pack.
/// libgit2 is never shut down.
let libgit2Initialized: Bool = {
    let count = git_libgit2_init()
    _ = clibgit2_set_owner_validation(0)
    _ = clibgit2_set_strict_hash_verification(0)
    return count > 0
}()

/// Makes sure libgit2 is initialised; every entry point that does not already hold a repository calls this.
@inline(__always)
func ensureLibgit2() {
    _ = libgit2Initialized
}

/// Throws the thread's last libgit2 error when `result` is negative.
///
/// libgit2 keeps its error state per thread, so this must run right after the call, on the same thread.
@inline(__always)
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(GitError) {
    if result < 0 {
        throw GitError.last(result, operation: operation())
    }
}

extension String {
    /// A Swift string from a libgit2 C string; invalid UTF-8 is repaired, nil becomes "".
    init(gitString pointer: UnsafePointer<CChar>?) {
        if let pointer {
            self.init(cString: pointer)
        } else {
            self = ""
        }
    }
}

/// Normalises a directory prefix such as "/flags/", "flags" or "." to "flags" or "" (the root).
func normalizedPrefix(_ prefix: String) -> String {
    let parts = prefix.split(separator: "/").filter { $0 != "." }
    return parts.joined(separator: "/")
}

/// Joins a directory path and a name; an empty directory is the repository root.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.isEmpty ? name : directory + "/" + name
}

/// What the libgit2 this process linked was built with; the transports depend on it.
public enum Libgit2 {
    /// libgit2's version, e.g. "1.5.1".
    public static var version: String {
        ensureLibgit2()
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        _ = git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }

    /// Whether `ssh://` remotes work (libgit2 built with libssh2 or an SSH executable: `GIT_FEATURE_SSH`).
    public static var supportsSSH: Bool {
        ensureLibgit2()
        return git_libgit2_features() & Int32(GIT_FEATURE_SSH.rawValue) != 0
    }

    /// Whether `https://` remotes work (`GIT_FEATURE_HTTPS`).
    public static var supportsHTTPS: Bool {
        ensureLibgit2()
        return git_libgit2_features() & Int32(GIT_FEATURE_HTTPS.rawValue) != 0
    }
}
