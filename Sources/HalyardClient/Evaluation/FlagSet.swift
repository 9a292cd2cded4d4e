//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// One environment's flags at one commit, as `GET /v1/environments/{env}/flags` served them; immutable.
///
/// The client swaps a whole flag set at once, so an evaluation never sees half of a change.
public final class FlagSet: Sendable {
    /// The environment.
    public let environment: String
    /// The commit Halyard served the flags at.
    public let commit: String
    /// The digest of the environment's flags (the `ETag` of the flags route).
    public let digest: String
    /// The flags by id.
    public let flags: [String: Flag]
    /// The ids, sorted.
    public let sortedIDs: [String]
    /// The response body the set was decoded from, kept for the cache file.
    let body: [UInt8]
    /// The flags again, read in place by the evaluation path without reference counting (``FlagLookup``).
    let lookup: FlagLookup

    init(environment: String, commit: String, digest: String, flags: [String: Flag], body: [UInt8]) {
        self.environment = environment
        self.commit = commit
        self.digest = digest
        self.flags = flags
        self.sortedIDs = flags.keys.sorted()
        self.body = body
        self.lookup = FlagLookup(flags, order: sortedIDs)
    }

    deinit {
        lookup.deallocate()
    }

    /// The `If-None-Match` value that asks Halyard whether this set is still current.
    var entityTag: String { "\"\(digest)\"" }

    /// Decodes a flags body: `{"environment", "commit", "digest", "flags": {id: normalised flag}}`.
    ///
    /// Every flag must decode; a set with one bad flag is refused whole, so the client keeps its last good set.
    ///
    /// - Parameters:
    ///   - body: The response body.
    ///   - source: What errors name: the URL or the cache file.
    static func decode(_ body: [UInt8], source: String) throws(HalyardClientError) -> FlagSet {
        let root: JSONValue
        do {
            root = try JSONValue.parse(body)
        } catch {
            throw HalyardClientError(.badFlagSet, subject: source, message: "the flag set is not JSON: \(error)")
        }
        return try decode(root, body: body, source: source)
    }

    /// Decodes a flags body already parsed.
    static func decode(_ root: JSONValue, body: [UInt8], source: String) throws(HalyardClientError) -> FlagSet {
        guard case .object(let members) = root else {
            throw HalyardClientError(.badFlagSet, subject: source, message: "the flag set must be a JSON object, not \(root.typeDescription)")
        }
        func text(_ key: String) throws(HalyardClientError) -> String {
            guard case .string(let value)? = members[key] else {
                throw HalyardClientError(.badFlagSet, subject: source, message: "the flag set has no string \"\(key)\"")
            }
            return value
        }
        let environment = try text("environment")
        let commit = try text("commit")
        let digest = try text("digest")
        guard case .object(let objects)? = members["flags"] else {
            throw HalyardClientError(.badFlagSet, subject: source, message: "the flag set has no object \"flags\"")
        }
        var flags: [String: Flag] = [:]
        flags.reserveCapacity(objects.count)
        for (id, object) in objects {
            let result = FlagDecoder.decode(normalized: object, id: id, source: "\(source)#/flags/\(id)")
            guard let flag = result.flag else {
                let reasons = result.errors.map { "\($0)" }.joined(separator: "; ")
                throw HalyardClientError(.badFlagSet, subject: source, message: "flag \"\(id)\" is not valid: \(reasons)")
            }
            flags[id] = flag
        }
        return FlagSet(environment: environment, commit: commit, digest: digest, flags: flags, body: body)
    }

    /// What changed from `old` to this set: added, removed and changed ids (`active` or targeting, DESIGN §4).
    func change(from old: FlagSet?) -> FlagChange {
        var added: [String] = []
        var removed: [String] = []
        var changed: [String] = []
        let previous = old?.flags ?? [:]
        for id in sortedIDs {
            if let before = previous[id] {
                if !before.hasSameTargeting(as: flags[id]!) { changed.append(id) }
            } else {
                added.append(id)
            }
        }
        for id in old?.sortedIDs ?? [] where flags[id] == nil {
            removed.append(id)
        }
        return FlagChange(environment: environment, commit: commit, previousCommit: old?.commit, added: added, removed: removed, changed: changed)
    }
}

/// What one new flag set changed, as ``HalyardClient/changes`` delivers it.
public struct FlagChange: Sendable, Equatable {
    /// The environment.
    public let environment: String
    /// The commit of the new flag set.
    public let commit: String
    /// The commit of the set it replaced; `nil` for the first set.
    public let previousCommit: String?
    /// Flags that appeared.
    public let added: [String]
    /// Flags that disappeared.
    public let removed: [String]
    /// Flags whose `active` or targeting changed.
    public let changed: [String]

    /// Creates a change.
    public init(environment: String, commit: String, previousCommit: String?, added: [String], removed: [String], changed: [String]) {
        self.environment = environment
        self.commit = commit
        self.previousCommit = previousCommit
        self.added = added
        self.removed = removed
        self.changed = changed
    }

    /// Every flag id the change concerns, sorted.
    public var flagIDs: [String] { (added + removed + changed).sorted() }
}

extension FlagSet {
    /// Decodes a flags body as `GET /v1/environments/{env}/flags` serves it, for benchmarks that build a client's
    /// flags without a server.
    @_spi(Benchmarks)
    public static func decoding(_ body: [UInt8], source: String) throws(HalyardClientError) -> FlagSet {
        try decode(body, source: source)
    }
}
