internal import CLibgit2

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One entry of a raw tree object, located by offsets into the object's bytes: nothing is copied until a change is
/// reported.
struct RawTreeEntry {
    /// The octal mode, parsed.
    var mode: UInt32
    /// Where the name starts and ends in the object.
    var nameStart: Int
    var nameEnd: Int
    /// Where the next entry starts (just past the 20-byte id).
    var end: Int

    var isTree: Bool { mode & 0o170000 == 0o040000 }

    /// The entry that starts at `offset` of `bytes` ("<octal mode> <name>\0<20-byte id>"); nil at the end or when the
    /// object is truncated there.
    init?(in bytes: UnsafeRawBufferPointer, at offset: Int) {
        var index = offset
        var mode: UInt32 = 0
        while index < bytes.count && bytes[index] != 0x20 {
            mode = mode << 3 | UInt32(bytes[index] &- 0x30)
            index += 1
        }
        let nameStart = index + 1
        guard nameStart <= bytes.count else { return nil }
        let nameEnd = RawTree.zeroByte(in: bytes, from: nameStart)
        guard nameEnd + 21 <= bytes.count else { return nil }
        self.mode = mode
        self.nameStart = nameStart
        self.nameEnd = nameEnd
        self.end = nameEnd + 21
    }

    func id(in bytes: UnsafeRawBufferPointer) -> ObjectID {
        ObjectID(rawBytes: UnsafeRawBufferPointer(rebasing: bytes[(nameEnd + 1)..<end]))
    }

    func name(in bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd]), as: UTF8.self)
    }
}

/// The last few big tree objects read raw, by id, each holding a libgit2 reference.
///
/// A history walk compares each commit with its first parent, so it reads every directory tree twice: as the parent
/// of one commit, and again as the commit that last changed that directory, which is a few commits further when
/// commits change different environments in turn. Keeping the last ones read (up to ``capacity`` trees and
/// ``byteBudget`` bytes) inflates (and rebuilds from deltas) a directory of 10,000 flags once instead of twice. Small
/// trees are left to libgit2's own object cache.
final class RawTreeCache {
    /// Trees smaller than this are not kept.
    static let minimumSize = 16 * 1024
    /// At most this many trees are kept: enough for the two sides of a diff in several environments changed in turn.
    static let capacity = 16
    /// At most this many bytes of tree objects are kept (a directory of 100,000 flags is about 4 MB).
    static let byteBudget = 32 * 1024 * 1024
    private var entries: [(id: ObjectID, object: OpaquePointer)] = []
    private var keptBytes = 0

    /// The kept object for `id`, which becomes the most recently used; the caller must take its own reference to use it.
    func object(_ id: ObjectID) -> OpaquePointer? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        let entry = entries.remove(at: index)
        entries.insert(entry, at: 0)
        return entry.object
    }

    /// Keeps `object` (taking over the caller's reference), dropping the oldest beyond the capacity.
    func insert(_ id: ObjectID, _ object: OpaquePointer) {
        entries.insert((id, object), at: 0)
        keptBytes += git_odb_object_size(object)
        while entries.count > 1 && (entries.count > Self.capacity || keptBytes > Self.byteBudget) {
            let dropped = entries.removeLast().object
            keptBytes -= git_odb_object_size(dropped)
            git_odb_object_free(dropped)
        }
    }

    /// Releases every kept object.
    func removeAll() {
        for entry in entries { git_odb_object_free(entry.object) }
        entries = []
        keptBytes = 0
    }

    deinit { removeAll() }
}

/// Byte-level helpers over raw tree objects.
enum RawTree {
    /// The offset of the first zero byte at or after `start`; `bytes.count` when there is none.
    static func zeroByte(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard start < bytes.count, let base = bytes.baseAddress else { return bytes.count }
        guard let found = memchr(base + start, 0, bytes.count - start) else { return bytes.count }
        return UnsafeRawPointer(found) - base
    }

    /// How many leading bytes the two buffers share.
    static func commonPrefix(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Int {
        let count = min(lhs.count, rhs.count)
        var index = 0
        while index + 8 <= count
            && lhs.loadUnaligned(fromByteOffset: index, as: UInt64.self) == rhs.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        {
            index += 8
        }
        while index < count && lhs[index] == rhs[index] { index += 1 }
        return index
    }

    /// How many trailing bytes the two buffers share.
    static func commonSuffix(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Int {
        let count = min(lhs.count, rhs.count)
        var length = 0
        while length + 8 <= count
            && lhs.loadUnaligned(fromByteOffset: lhs.count - length - 8, as: UInt64.self)
                == rhs.loadUnaligned(fromByteOffset: rhs.count - length - 8, as: UInt64.self)
        {
            length += 8
        }
        while length < count && lhs[lhs.count - length - 1] == rhs[rhs.count - length - 1] { length += 1 }
        return length
    }

    /// Orders two entries as git sorts a tree: bytewise by name, a directory's name compared as if it ended in "/".
    /// A file and a directory of the same name are therefore two different entries: a removal and an addition.
    static func compareInTreeOrder(
        _ lhs: RawTreeEntry, in lhsBytes: UnsafeRawBufferPointer, _ rhs: RawTreeEntry, in rhsBytes: UnsafeRawBufferPointer
    ) -> Int {
        let lhsCount = lhs.nameEnd - lhs.nameStart
        let rhsCount = rhs.nameEnd - rhs.nameStart
        let count = min(lhsCount, rhsCount)
        if count > 0, let left = lhsBytes.baseAddress, let right = rhsBytes.baseAddress {
            let order = memcmp(left + lhs.nameStart, right + rhs.nameStart, count)
            if order != 0 { return order < 0 ? -1 : 1 }
        }
        let left: UInt8 = lhsCount > count ? lhsBytes[lhs.nameStart + count] : (lhs.isTree ? 0x2f : 0)
        let right: UInt8 = rhsCount > count ? rhsBytes[rhs.nameStart + count] : (rhs.isTree ? 0x2f : 0)
        return left == right ? 0 : (left < right ? -1 : 1)
    }
}

extension Repository {
    /// Calls `body` with the bytes of the tree object `id`; nil when the object is not a tree.
    func withRawTree<Result>(
        _ id: ObjectID,
        _ operation: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws(GitError) -> Result
    ) throws(GitError) -> Result? {
        var object: OpaquePointer?
        if let cached = rawTreeCache.object(id) {
            // A reference of our own: reads inside `body` may evict the cache's.
            try check(git_odb_object_dup(&object, cached), operation())
        } else {
            var database: OpaquePointer?
            try check(git_repository_odb(&database, pointer), operation())
            defer { git_odb_free(database) }
            var oid = id.oid
            try check(git_odb_read(&object, database, &oid), operation())
            if git_odb_object_type(object) == GIT_OBJECT_TREE, git_odb_object_size(object) >= RawTreeCache.minimumSize {
                var kept: OpaquePointer?
                if git_odb_object_dup(&kept, object) == 0, let kept { rawTreeCache.insert(id, kept) }
            }
        }
        defer { git_odb_object_free(object) }
        guard git_odb_object_type(object) == GIT_OBJECT_TREE, let data = git_odb_object_data(object) else { return nil }
        return try body(UnsafeRawBufferPointer(start: data, count: git_odb_object_size(object)))
    }

    /// Calls `body` with the bytes of the tree `id`; an empty buffer when `id` is nil or not a tree.
    private func withRawTreeOrEmpty(
        _ id: ObjectID?,
        _ operation: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) throws(GitError) -> Void
    ) throws(GitError) {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        guard let id else { return try body(empty) }
        let done: Void? = try withRawTree(id, operation(), body)
        if done == nil { try body(empty) }
    }

    /// Compares two trees in git's order, descending only into subtrees whose ids differ.
    ///
    /// A directory of thousands of flags in which one file changed is compared without looking at most of its
    /// entries: the bytes the two tree objects share at the start and at the end are identical entries, so only the
    /// entries in between are parsed and merged.
    func diffRawTrees(
        old: ObjectID?,
        new: ObjectID?,
        at directory: String,
        into changes: inout [TreeChange],
        _ operation: @autoclosure () -> String
    ) throws(GitError) {
        if old == new { return }
        // The new tree first: in a history walk the old one (the parent's) is the next comparison's new tree, and so
        // the last one read, still in the cache.
        try withRawTreeOrEmpty(new, operation()) { (newBytes) throws(GitError) in
            try withRawTreeOrEmpty(old, operation()) { (oldBytes) throws(GitError) in
                try diffRawTrees(old: oldBytes, new: newBytes, at: directory, into: &changes, operation())
            }
        }
    }

    private func diffRawTrees(
        old: UnsafeRawBufferPointer,
        new: UnsafeRawBufferPointer,
        at directory: String,
        into changes: inout [TreeChange],
        _ operation: @autoclosure () -> String
    ) throws(GitError) {
        // Skip the entries that lie wholly inside the common prefix: they start at the same offsets in both objects.
        let prefix = RawTree.commonPrefix(old, new)
        var oldOffset = 0
        while oldOffset < old.count {
            let end = RawTree.zeroByte(in: old, from: oldOffset) + 21
            guard end <= prefix else { break }
            oldOffset = end
        }
        var newOffset = oldOffset
        let suffix = RawTree.commonSuffix(old, new)
        while oldOffset < old.count || newOffset < new.count {
            // Both at an entry boundary with the same remaining bytes: the rest of the two trees is identical.
            let remaining = old.count - oldOffset
            if remaining == new.count - newOffset && remaining <= suffix { return }
            let before = RawTreeEntry(in: old, at: oldOffset)
            let after = RawTreeEntry(in: new, at: newOffset)
            let order: Int
            switch (before, after) {
            case (nil, nil): return
            case (nil, _): order = 1
            case (_, nil): order = -1
            case (let before?, let after?): order = RawTree.compareInTreeOrder(before, in: old, after, in: new)
            }
            if order < 0, let before {
                try removed(before, in: old, at: directory, into: &changes, operation())
                oldOffset = before.end
            } else if order > 0, let after {
                try added(after, in: new, at: directory, into: &changes, operation())
                newOffset = after.end
            } else if let before, let after {
                oldOffset = before.end
                newOffset = after.end
                let oldID = before.id(in: old)
                let newID = after.id(in: new)
                if oldID == newID && before.mode == after.mode { continue }
                let path = joinPath(directory, after.name(in: new))
                switch (before.isTree, after.isTree) {
                case (true, true):
                    try diffRawTrees(old: oldID, new: newID, at: path, into: &changes, operation())
                case (true, false):
                    try diffRawTrees(old: oldID, new: nil, at: path, into: &changes, operation())
                    try added(after, in: new, at: directory, into: &changes, operation())
                case (false, true):
                    try removed(before, in: old, at: directory, into: &changes, operation())
                    try diffRawTrees(old: nil, new: newID, at: path, into: &changes, operation())
                case (false, false):
                    let oldKind = TreeEntryKind(mode: before.mode)
                    let newKind = TreeEntryKind(mode: after.mode)
                    changes.append(
                        TreeChange(
                            status: Self.isTypeChange(oldKind, newKind) ? .typeChanged : .modified,
                            path: path,
                            oldID: oldID,
                            newID: newID,
                            oldKind: oldKind,
                            newKind: newKind
                        )
                    )
                }
            }
        }
    }

    private func added(
        _ entry: RawTreeEntry, in bytes: UnsafeRawBufferPointer, at directory: String, into changes: inout [TreeChange],
        _ operation: @autoclosure () -> String
    ) throws(GitError) {
        let path = joinPath(directory, entry.name(in: bytes))
        if entry.isTree {
            try diffRawTrees(old: nil, new: entry.id(in: bytes), at: path, into: &changes, operation())
        } else {
            changes.append(
                TreeChange(status: .added, path: path, oldID: nil, newID: entry.id(in: bytes), oldKind: nil, newKind: TreeEntryKind(mode: entry.mode)))
        }
    }

    private func removed(
        _ entry: RawTreeEntry, in bytes: UnsafeRawBufferPointer, at directory: String, into changes: inout [TreeChange],
        _ operation: @autoclosure () -> String
    ) throws(GitError) {
        let path = joinPath(directory, entry.name(in: bytes))
        if entry.isTree {
            try diffRawTrees(old: entry.id(in: bytes), new: nil, at: path, into: &changes, operation())
        } else {
            changes.append(
                TreeChange(status: .deleted, path: path, oldID: entry.id(in: bytes), newID: nil, oldKind: TreeEntryKind(mode: entry.mode), newKind: nil))
        }
    }

    /// A blob that became a symlink or a submodule (or back) is a type change; a file that became executable is a
    /// modification, as in libgit2.
    private static func isTypeChange(_ old: TreeEntryKind?, _ new: TreeEntryKind?) -> Bool {
        func family(_ kind: TreeEntryKind?) -> Int {
            switch kind {
            case .blob?, .executable?: 0
            case .symlink?: 1
            case .submodule?: 2
            default: 3
            }
        }
        return family(old) != family(new)
    }
}
