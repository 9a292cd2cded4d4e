internal import CLibgit2

/// An open git repository: the one door through which Halyard reads commits, trees and blobs, and fetches.
///
/// It owns a libgit2 `git_repository` handle, freed when the object goes away. libgit2 lets one thread at a time use
/// a handle, so `Repository` is deliberately not `Sendable`: keep each one inside one actor (ideally one running on a
/// ``GitExecutor``, since fetches block) or one task. Everything it returns is a Sendable value.
///
/// ```swift
/// let repository = try Repository.discover(from: ".")
/// let head = try repository.resolveCommit("HEAD")
/// for entry in try repository.entries(inCommit: head, under: "flags") where entry.kind == .blob {
///     let bytes = try repository.blob(entry.id)
/// }
/// ```
public final class Repository {
    /// The libgit2 handle; never leaves this module.
    let pointer: OpaquePointer

    /// The git directory, without a trailing slash: the repository itself when bare, else its `.git` directory.
    public let path: String

    /// The working tree's root, without a trailing slash; nil for a bare repository.
    public let workingDirectory: String?

    /// Whether the repository has no working tree (as Halyard's mirrors).
    public var isBare: Bool { workingDirectory == nil }

    /// Whether the repository has no commits yet: HEAD names an unborn branch and no reference exists.
    ///
    /// Unlike `git_repository_is_empty` this does not depend on the `init.defaultBranch` setting.
    public var isEmpty: Bool {
        guard git_repository_head_unborn(pointer) == 1 else { return false }
        var iterator: OpaquePointer?
        guard git_reference_iterator_new(&iterator, pointer) == 0 else { return false }
        defer { git_reference_iterator_free(iterator) }
        var reference: OpaquePointer?
        let result = git_reference_next(&reference, iterator)
        git_reference_free(reference)
        return result == GIT_ITEROVER.rawValue
    }

    /// The last big tree objects read raw (see ``RawTreeCache``).
    let rawTreeCache = RawTreeCache()

    /// The path used in error messages: the working tree when there is one.
    var displayPath: String { workingDirectory ?? path }

    private init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        path = Self.trimmedDirectory(git_repository_path(pointer))
        workingDirectory = git_repository_workdir(pointer).map { Self.trimmedDirectory($0) }
    }

    deinit {
        rawTreeCache.removeAll()
        git_repository_free(pointer)
    }

    private static func trimmedDirectory(_ pointer: UnsafePointer<CChar>?) -> String {
        var path = String(gitString: pointer)
        while path.count > 1 && path.hasSuffix("/") {
            path.removeLast()
        }
        return path
    }

    // MARK: - Opening

    /// Opens the repository at `path`: a working tree's root, its `.git` directory, or a bare repository.
    ///
    /// Unlike ``discover(from:)`` this does not look in parent directories.
    public static func open(at path: String) throws(GitError) -> Repository {
        ensureLibgit2()
        var pointer: OpaquePointer?
        try check(
            git_repository_open_ext(&pointer, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil),
            "open repository at \(path)"
        )
        return Repository(taking: pointer!)
    }

    /// Opens the repository that contains `path`, walking up through its parent directories as `git` does.
    public static func discover(from path: String) throws(GitError) -> Repository {
        ensureLibgit2()
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check(git_repository_discover(&buffer, path, 0, nil), "find a repository at or above \(path)")
        var pointer: OpaquePointer?
        try check(git_repository_open(&pointer, buffer.ptr), "open repository at \(String(gitString: buffer.ptr))")
        return Repository(taking: pointer!)
    }

    /// Creates a new, empty repository at `path` (creating missing directories), or reopens one already there.
    ///
    /// HEAD names the branch from `init.defaultBranch`, "master" when unset.
    public static func create(at path: String, bare: Bool) throws(GitError) -> Repository {
        ensureLibgit2()
        var pointer: OpaquePointer?
        try check(git_repository_init(&pointer, path, bare ? 1 : 0), "create repository at \(path)")
        return Repository(taking: pointer!)
    }

    /// Wraps a handle freshly returned by libgit2; the new object owns it.
    static func wrapping(_ pointer: OpaquePointer) -> Repository {
        Repository(taking: pointer)
    }
}

/// A `Repository` is confined to one isolation domain; this makes that explicit.
@available(*, unavailable)
extension Repository: Sendable {}
