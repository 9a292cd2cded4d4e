import Foundation
import HalyardGit
import HalyardRules

/// Builds snapshots from git commits or from a working tree, validating the whole flag set.
///
/// Loading the next commit from the previous snapshot is incremental: only the files that the tree diff lists are read
/// and parsed again, everything else is shared with the previous snapshot. Validation stays all-or-nothing because the
/// previous snapshot was valid as a whole.
///
/// ```swift
/// let repository = try Repository.open(at: "/srv/flags.git")
/// let head = try repository.resolveCommit("HEAD")
/// let snapshot = try SnapshotLoader(flagsDirectory: "flags").load(commit: head, from: repository)
/// ```
public struct SnapshotLoader: Sendable {
    /// The flags directory inside the repository, without a trailing slash.
    public let flagsDirectory: String
    /// The aggregate limits (files, environments, file size) each load enforces.
    public let limits: RepositoryLimits

    /// Creates a loader for the flags under `flagsDirectory` (trailing slashes are dropped) that enforces `limits`.
    public init(flagsDirectory: String = "flags", limits: RepositoryLimits = .standard) {
        self.limits = limits
        var directory = flagsDirectory
        while directory.hasSuffix("/") { directory.removeLast() }
        while directory.hasPrefix("./") { directory.removeFirst(2) }
        self.flagsDirectory = directory.isEmpty ? "flags" : directory
    }

    // MARK: - Git

    /// Loads every flag at `commit`.
    public func load(commit: ObjectID, from repository: Repository) throws(SnapshotError) -> Snapshot {
        let entries: [TreeEntry]
        do {
            entries = try repository.entries(inCommit: commit, under: flagsDirectory)
        } catch {
            throw .git(error)
        }
        // Too many files: refuse before reading any of them.
        if let tooMany = limits.fileCountError(entries.count, flagsDirectory: flagsDirectory) {
            throw .invalid([tooMany])
        }
        var builder = Builder(flagsDirectory: flagsDirectory, limits: limits)
        if entries.isEmpty {
            builder.missingDirectory(at: commit.hex)
        }
        // Which files are flags is decided here; reading, decoding, validating, compiling and fingerprinting them
        // runs on every core, each chunk of files with its own repository handle (libgit2 lets one thread at a time
        // use a handle); the results are then collected in path order, exactly as one by one.
        var places: [(place: Builder.FlagPlace, id: ObjectID)] = []
        places.reserveCapacity(entries.count)
        for entry in entries {
            if let place = builder.place(path: entry.path, kind: FileKind(entry.kind), blobID: entry.id) {
                places.append((place, entry.id))
            }
        }
        // A file with the same bytes and flag id as one before it (the same flag in several environments) is decoded
        // once: it shares the first one's flag and fingerprints when that one is valid and drew no finding.
        var firstOfKind: [SharedDecodeKey: Int] = [:]
        var unique: [Int] = []
        var sameAs = [Int](repeating: -1, count: places.count)
        for (index, place) in places.enumerated() {
            let key = SharedDecodeKey(blob: place.id, flagID: place.place.id)
            if let first = firstOfKind[key] {
                sameAs[index] = first
            } else {
                firstOfKind[key] = index
                unique.append(index)
            }
        }
        let limits = self.limits
        let gitDirectory = repository.path
        func read(_ index: Int, from repository: Repository) -> Builder.FileOutcome {
            let (place, id) = places[index]
            return Builder.read(
                place,
                limits: limits,
                size: { () throws(SnapshotError) in try Self.blobSize(id, repository) },
                bytes: { () throws(SnapshotError) in try Self.blob(id, repository) }
            )
        }
        let chunks: [(range: Range<Int>, value: [Builder.FileOutcome]?)]
        if ParallelChunks.chunkCount(unique.count) == 1 {
            chunks = [(unique.indices, unique.map { read($0, from: repository) })]
        } else {
            chunks = ParallelChunks.map(unique.count) { range -> [Builder.FileOutcome]? in
                guard let handle = try? Repository.open(at: gitDirectory) else { return nil }
                return range.map { read(unique[$0], from: handle) }
            }
        }
        var outcomes = [Builder.FileOutcome?](repeating: nil, count: places.count)
        for chunk in chunks {
            // A chunk whose handle did not open is read here, with the caller's handle.
            let read = chunk.value ?? chunk.range.map { read(unique[$0], from: repository) }
            for (position, outcome) in zip(chunk.range, read) { outcomes[unique[position]] = outcome }
        }
        for index in places.indices {
            let place = places[index].place
            var outcome = outcomes[index]
            if outcome == nil, case .decoded(let shared?, let findings)? = outcomes[sameAs[index]], findings.isEmpty {
                outcome = .decoded(shared.sharing(location: place.location, blobID: place.blobID), diagnostics: [])
            }
            builder.accept(place, outcome ?? read(index, from: repository))
        }
        return try builder.finish(commit: commit.hex, environments: [:])
    }

    /// Loads `commit` by applying the tree diff from `previous.commit` to `previous`.
    ///
    /// Falls back to a full load when `previous` was not read from git.
    public func load(commit: ObjectID, from repository: Repository, after previous: Snapshot) throws(SnapshotError) -> Snapshot {
        guard let previousHex = previous.commit, let previousID = ObjectID(hex: previousHex), previous.flagsDirectory == flagsDirectory else {
            return try load(commit: commit, from: repository)
        }
        if previousID == commit { return previous }
        let changes: [TreeChange]
        do {
            changes = try repository.diff(from: previousID, to: commit, under: flagsDirectory)
        } catch {
            throw .git(error)
        }
        if changes.isEmpty {
            return Snapshot(
                commit: commit.hex,
                flagsDirectory: flagsDirectory,
                environments: previous.environments,
                files: previous.files
            )
        }
        if let tooMany = limits.fileCountError(changes.count, flagsDirectory: flagsDirectory) {
            throw .invalid([tooMany])
        }
        var builder = Builder(flagsDirectory: flagsDirectory, limits: limits, previous: previous)
        for change in changes {
            builder.remove(path: change.path)
        }
        for change in changes {
            guard let newID = change.newID, let newKind = change.newKind else { continue }
            builder.add(
                path: change.path,
                kind: FileKind(newKind),
                blobID: newID,
                size: { () throws(SnapshotError) in try Self.blobSize(newID, repository) },
                bytes: { () throws(SnapshotError) in try Self.blob(newID, repository) }
            )
        }
        if builder.isEmpty {
            builder.missingDirectory(at: commit.hex)
        }
        return try builder.finish(commit: commit.hex, environments: previous.environments)
    }

    private static func blob(_ id: ObjectID, _ repository: Repository) throws(SnapshotError) -> [UInt8] {
        do { return try repository.blob(id) } catch { throw .git(error) }
    }

    private static func blobSize(_ id: ObjectID, _ repository: Repository) throws(SnapshotError) -> Int {
        do { return try repository.blobSize(id) } catch { throw .git(error) }
    }

    // MARK: - Working tree

    /// Loads every flag from the flags directory of a working tree at `root`.
    public func loadWorkingTree(at root: String) throws(SnapshotError) -> Snapshot {
        let base = root.hasSuffix("/") ? String(root.dropLast()) : root
        let directory = base + "/" + flagsDirectory
        var builder = Builder(flagsDirectory: flagsDirectory, limits: limits)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(path: directory, message: "no flags directory here (expected \(flagsDirectory)/<environment>/<flag-id>.json)")
        }
        try walk(directory: directory, relative: flagsDirectory, into: &builder)
        return try builder.finish(commit: nil, environments: [:])
    }

    private func walk(directory: String, relative: String, into builder: inout Builder) throws(SnapshotError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw .io(path: directory, message: "cannot list the directory: \(error.localizedDescription)")
        }
        for name in names where name != ".git" {
            let path = directory + "/" + name
            let relativePath = relative + "/" + name
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: path)
            } catch {
                throw .io(path: path, message: "cannot read file attributes: \(error.localizedDescription)")
            }
            let type = attributes[.type] as? FileAttributeType
            if type == .typeDirectory {
                if FileManager.default.fileExists(atPath: path + "/.git") {
                    builder.add(path: relativePath, kind: .submodule, blobID: nil, size: { 0 }, bytes: { [] })
                } else {
                    try walk(directory: path, relative: relativePath, into: &builder)
                }
                continue
            }
            let kind: FileKind = type == .typeSymbolicLink ? .symlink : .file
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            builder.add(
                path: relativePath,
                kind: kind,
                blobID: nil,
                size: { size },
                bytes: { () throws(SnapshotError) in
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw .io(path: path, message: "cannot read the file")
                    }
                    return [UInt8](data)
                }
            )
        }
    }
}

/// What makes two flag files decode to the same flag: the same bytes under the same flag id.
private struct SharedDecodeKey: Hashable {
    var blob: ObjectID
    var flagID: String
}

/// The kinds of directory entry the layout rules care about.
enum FileKind: Sendable {
    case file, symlink, submodule

    init(_ kind: TreeEntryKind) {
        switch kind {
        case .blob, .executable, .tree: self = .file
        case .symlink: self = .symlink
        case .submodule: self = .submodule
        }
    }
}

extension SnapshotLoader {
    /// Collects files into environments and diagnostics; shared by full and incremental loads.
    struct Builder {
        let flagsDirectory: String
        let limits: RepositoryLimits
        /// `flagsDirectory` and a slash: what every path of the flags directory starts with.
        private let prefix: String
        private var files: Snapshot.Files
        /// The environments the load starts from (empty for a full load): where removed flag files are found.
        private let previousEnvironments: [String: EnvironmentSnapshot]
        /// How many flag files the result has: the previous ones, minus those removed, plus those added.
        private var flagFiles: Int
        /// Paths added in this load that were refused (invalid ones), so an invalid-only directory is not "missing".
        private var rejectedPaths = 0
        /// Each environment's directory with a trailing slash, one string shared by its flags (``LoadedFlag/Location``).
        private var directories: [String: String] = [:]
        private var removedFlags: [String: Set<String>] = [:]
        private var addedFlags: [String: [String: LoadedFlag]] = [:]
        private var diagnostics: [Diagnostic] = []

        init(flagsDirectory: String, limits: RepositoryLimits, previous: Snapshot? = nil) {
            self.flagsDirectory = flagsDirectory
            self.limits = limits
            self.prefix = flagsDirectory + "/"
            self.files = previous?.files ?? .none
            self.previousEnvironments = previous?.environments ?? [:]
            self.flagFiles = previous?.flagCount ?? 0
        }

        var isEmpty: Bool { flagFiles == 0 && files.ignored.isEmpty && rejectedPaths == 0 }

        mutating func missingDirectory(at commit: String) {
            diagnostics.append(
                Diagnostic(
                    severity: .error,
                    file: flagsDirectory,
                    pointer: "",
                    message: "the flags directory \"\(flagsDirectory)\" is missing or empty at \(commit.prefix(12))",
                    hint: "flags live in \(flagsDirectory)/<environment>/<flag-id>.json"
                )
            )
        }

        mutating func remove(path: String) {
            if files.ignored.remove(path) != nil { return }
            files.warningsByPath[path] = nil
            guard path.hasPrefix(prefix), case .flag(let environment, let id) = FlagPath.classify(path.dropFirst(prefix.count)),
                previousEnvironments[environment]?.flags[id] != nil,
                removedFlags[environment, default: []].insert(id).inserted
            else { return }
            flagFiles -= 1
        }

        /// A flag file's place: its path, environment and id, and its blob id when read from git.
        struct FlagPlace {
            let path: String
            let environment: String
            let id: String
            let blobID: ObjectID?
            /// The path as the loaded flag keeps it.
            let location: LoadedFlag.Location
        }

        /// What reading and decoding one flag file gave.
        enum FileOutcome {
            /// The decoder's diagnostics, and the loaded flag when the file is valid.
            case decoded(LoadedFlag?, diagnostics: [Diagnostic])
            /// The file is over the size limit.
            case tooLarge(Diagnostic)
            /// The file could not be read.
            case failed(SnapshotError)
        }

        /// Adds one file: checks where it is, reads it, decodes it.
        mutating func add(
            path: String,
            kind: FileKind,
            blobID: ObjectID?,
            size: () throws(SnapshotError) -> Int,
            bytes: () throws(SnapshotError) -> [UInt8]
        ) {
            guard let place = place(path: path, kind: kind, blobID: blobID) else { return }
            accept(place, Self.read(place, limits: limits, size: size, bytes: bytes))
        }

        /// Checks where a file is: its place when it is a flag file to read, nil when it is ignored (recorded as such)
        /// or refused (with a diagnostic).
        mutating func place(path: String, kind: FileKind, blobID: ObjectID?) -> FlagPlace? {
            guard path.hasPrefix(prefix) else { return nil }
            let classification = FlagPath.classify(path.dropFirst(prefix.count))
            func error(_ message: String, hint: String? = nil) -> FlagPlace? {
                rejectedPaths += 1
                diagnostics.append(Diagnostic(severity: .error, file: path, pointer: "", message: message, hint: hint))
                return nil
            }
            switch kind {
            case .symlink:
                return error("symbolic links are not allowed in the flags directory", hint: "commit the file itself")
            case .submodule:
                return error("submodules are not allowed in the flags directory", hint: "commit the flag files themselves")
            case .file:
                break
            }
            switch classification {
            case .ignored:
                files.ignored.insert(path)
                return nil
            case .invalid(let message, let hint):
                return error(message, hint: hint)
            case .flag(let environment, let id):
                let directory = directories[environment] ?? (prefix + environment + "/")
                directories[environment] = directory
                // `<directory><id>.json` exactly, checked by length: the path starts with the directory and ends with
                // the id and `.json` (FlagPath.classify).
                let isNamedForFlag = path.utf8.count == directory.utf8.count + id.utf8.count + 5 && path.hasPrefix(directory)
                return FlagPlace(
                    path: path, environment: environment, id: id, blobID: blobID,
                    location: isNamedForFlag ? .directory(directory) : .path(path))
            }
        }

        /// Reads a flag file (refusing it unread when over the size limit), then decodes, validates, compiles and
        /// fingerprints it. Touches no builder state, so that files can be read on several threads.
        static func read(
            _ place: FlagPlace,
            limits: RepositoryLimits,
            size: () throws(SnapshotError) -> Int,
            bytes: () throws(SnapshotError) -> [UInt8]
        ) -> FileOutcome {
            do {
                if let tooLarge = limits.fileSizeError(try size(), file: place.path) {
                    return .tooLarge(tooLarge)
                }
                let result = FlagDecoder.decode(try bytes(), id: place.id, file: place.path)
                return .decoded(result.flag.map { LoadedFlag(flag: $0, location: place.location, blobID: place.blobID) }, diagnostics: result.diagnostics)
            } catch {
                return .failed(error)
            }
        }

        /// Records what reading a flag file gave: its flag when valid, its errors, and its warnings for the snapshot.
        mutating func accept(_ place: FlagPlace, _ outcome: FileOutcome) {
            switch outcome {
            case .tooLarge(let diagnostic):
                rejectedPaths += 1
                diagnostics.append(diagnostic)
            case .failed(let error):
                rejectedPaths += 1
                if error.isInvalidFlagSet {
                    diagnostics.append(contentsOf: error.diagnostics)
                } else {
                    self.error(path: place.path, error.description)
                }
            case .decoded(let loaded, let decoderDiagnostics):
                let warnings = decoderDiagnostics.filter { $0.severity == .warning }
                diagnostics.append(contentsOf: decoderDiagnostics.filter { $0.severity == .error })
                guard let loaded else {
                    rejectedPaths += 1
                    return
                }
                if !warnings.isEmpty { files.warningsByPath[place.path] = warnings }
                addedFlags[place.environment, default: [:]][place.id] = loaded
                flagFiles += 1
            }
        }

        private mutating func error(path: String, _ message: String) {
            diagnostics.append(Diagnostic(severity: .error, file: path, pointer: "", message: message, hint: nil))
        }

        func finish(commit: String?, environments previous: [String: EnvironmentSnapshot]) throws(SnapshotError) -> Snapshot {
            var diagnostics = self.diagnostics
            if let tooMany = limits.fileCountError(flagFiles + files.ignored.count + rejectedPaths, flagsDirectory: flagsDirectory) {
                diagnostics.append(tooMany)
            }
            // Counted before any environment is built: the previous ones, plus new ones, minus those emptied here.
            var environmentCount = previous.count
            for name in addedFlags.keys where previous[name] == nil { environmentCount += 1 }
            for (name, removed) in removedFlags where addedFlags[name] == nil && removed.count == previous[name]?.flags.count {
                environmentCount -= 1
            }
            if let tooMany = limits.environmentCountError(environmentCount, flagsDirectory: flagsDirectory) {
                diagnostics.append(tooMany)
            }
            if diagnostics.contains(where: { $0.severity == .error }) {
                let warnings = files.warningsByPath.values.flatMap { $0 }
                throw .invalid(
                    (diagnostics + warnings).sorted { ($0.file, $0.pointer) < ($1.file, $1.pointer) }
                )
            }
            var environments = previous
            let touchedEnvironments = Set(removedFlags.keys).union(addedFlags.keys)
            for name in touchedEnvironments {
                let removed = removedFlags[name] ?? []
                let added = addedFlags[name] ?? [:]
                if let existing = environments[name] {
                    environments[name] = existing.updated(removing: removed, adding: added)
                } else if !added.isEmpty {
                    environments[name] = EnvironmentSnapshot(name: name, flags: added)
                }
            }
            return Snapshot(commit: commit, flagsDirectory: flagsDirectory, environments: environments, files: files)
        }
    }
}
