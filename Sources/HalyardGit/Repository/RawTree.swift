internal import CLibgit2

/// One entry of a tree object as stored: mode, name bytes and id, read without libgit2's entry table.
struct RawTreeEntry {
    var mode: UInt32
    var name: [UInt8]
    var id: ObjectID

    var isTree: Bool { mode & 0o170000 == 0o040000 }
}

extension Repository {
    /// The entries of the tree object `id`, parsed straight from the object database.
    ///
    /// Parsing the raw object is several times cheaper than building libgit2's tree (which sorts and indexes entries),
    /// which matters for directories of thousands of flags read once per commit.
    func rawTreeEntries(_ id: ObjectID, _ operation: @autoclosure () -> String) throws(GitError) -> [RawTreeEntry] {
        try withRawTree(id, operation()) { bytes in
            var entries: [RawTreeEntry] = []
            var index = 0
            while index < bytes.count {
                var mode: UInt32 = 0
                while index < bytes.count && bytes[index] != 0x20 {
                    mode = mode << 3 | UInt32(bytes[index] &- 0x30)
                    index += 1
                }
                let nameStart = index + 1
                var nameEnd = nameStart
                while nameEnd < bytes.count && bytes[nameEnd] != 0 { nameEnd += 1 }
                let idStart = nameEnd + 1
                guard idStart + 20 <= bytes.count else { break }
                entries.append(
                    RawTreeEntry(
                        mode: mode,
                        name: Array(bytes[nameStart..<nameEnd]),
                        id: ObjectID(rawBytes: UnsafeRawBufferPointer(rebasing: bytes[idStart..<(idStart + 20)]))
                    )
                )
                index = idStart + 20
            }
            return entries
        } ?? []
    }

    /// Calls `body` with the bytes of the tree object `id`; nil when the object is not a tree.
    func withRawTree<Result>(
        _ id: ObjectID,
        _ operation: @autoclosure () -> String,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(GitError) -> Result? {
        var database: OpaquePointer?
        try check(git_repository_odb(&database, pointer), operation())
        defer { git_odb_free(database) }
        var object: OpaquePointer?
        var oid = id.oid
        try check(git_odb_read(&object, database, &oid), operation())
        defer { git_odb_object_free(object) }
        guard git_odb_object_type(object) == GIT_OBJECT_TREE, let data = git_odb_object_data(object) else { return nil }
        return body(UnsafeRawBufferPointer(start: data, count: git_odb_object_size(object)))
    }

    /// Compares two trees entry by entry in git's order, descending only into subtrees whose ids differ.
    func diffRawTrees(
        old: ObjectID?,
        new: ObjectID?,
        at directory: String,
        into changes: inout [TreeChange],
        _ operation: @autoclosure () -> String
    ) throws(GitError) {
        if old == new { return }
        let oldEntries = try old.map { (id) throws(GitError) in try rawTreeEntries(id, operation()) } ?? []
        let newEntries = try new.map { (id) throws(GitError) in try rawTreeEntries(id, operation()) } ?? []
        var oldIndex = 0
        var newIndex = 0
        while oldIndex < oldEntries.count || newIndex < newEntries.count {
            let order: Int
            if oldIndex == oldEntries.count {
                order = 1
            } else if newIndex == newEntries.count {
                order = -1
            } else {
                order = Self.compareInTreeOrder(oldEntries[oldIndex], newEntries[newIndex])
            }
            if order < 0 {
                try removed(oldEntries[oldIndex], at: directory, into: &changes, operation())
                oldIndex += 1
            } else if order > 0 {
                try added(newEntries[newIndex], at: directory, into: &changes, operation())
                newIndex += 1
            } else {
                let before = oldEntries[oldIndex]
                let after = newEntries[newIndex]
                oldIndex += 1
                newIndex += 1
                if before.id == after.id && before.mode == after.mode { continue }
                let path = joinPath(directory, String(decoding: after.name, as: UTF8.self))
                switch (before.isTree, after.isTree) {
                case (true, true):
                    try diffRawTrees(old: before.id, new: after.id, at: path, into: &changes, operation())
                case (true, false):
                    try diffRawTrees(old: before.id, new: nil, at: path, into: &changes, operation())
                    try added(after, at: directory, into: &changes, operation())
                case (false, true):
                    try removed(before, at: directory, into: &changes, operation())
                    try diffRawTrees(old: nil, new: after.id, at: path, into: &changes, operation())
                case (false, false):
                    let oldKind = TreeEntryKind(mode: before.mode)
                    let newKind = TreeEntryKind(mode: after.mode)
                    let kindChanged = Self.isTypeChange(oldKind, newKind)
                    changes.append(
                        TreeChange(
                            status: kindChanged ? .typeChanged : .modified,
                            path: path,
                            oldID: before.id,
                            newID: after.id,
                            oldKind: oldKind,
                            newKind: newKind
                        )
                    )
                }
            }
        }
    }

    private func added(_ entry: RawTreeEntry, at directory: String, into changes: inout [TreeChange], _ operation: @autoclosure () -> String)
        throws(GitError)
    {
        let path = joinPath(directory, String(decoding: entry.name, as: UTF8.self))
        if entry.isTree {
            try diffRawTrees(old: nil, new: entry.id, at: path, into: &changes, operation())
        } else {
            changes.append(TreeChange(status: .added, path: path, oldID: nil, newID: entry.id, oldKind: nil, newKind: TreeEntryKind(mode: entry.mode)))
        }
    }

    private func removed(_ entry: RawTreeEntry, at directory: String, into changes: inout [TreeChange], _ operation: @autoclosure () -> String)
        throws(GitError)
    {
        let path = joinPath(directory, String(decoding: entry.name, as: UTF8.self))
        if entry.isTree {
            try diffRawTrees(old: entry.id, new: nil, at: path, into: &changes, operation())
        } else {
            changes.append(TreeChange(status: .deleted, path: path, oldID: entry.id, newID: nil, oldKind: TreeEntryKind(mode: entry.mode), newKind: nil))
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

    /// Orders two entries as git sorts a tree: bytewise by name, a directory's name compared as if it ended in "/".
    /// A file and a directory of the same name are therefore two different entries: a removal and an addition.
    private static func compareInTreeOrder(_ lhs: RawTreeEntry, _ rhs: RawTreeEntry) -> Int {
        let count = min(lhs.name.count, rhs.name.count)
        for index in 0..<count where lhs.name[index] != rhs.name[index] {
            return lhs.name[index] < rhs.name[index] ? -1 : 1
        }
        let left: UInt8 = lhs.name.count > count ? lhs.name[count] : (lhs.isTree ? 0x2f : 0)
        let right: UInt8 = rhs.name.count > count ? rhs.name[count] : (rhs.isTree ? 0x2f : 0)
        return left == right ? 0 : (left < right ? -1 : 1)
    }
}
