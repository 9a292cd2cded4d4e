//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

/// The id of a server-sent event, which a client sends back as `Last-Event-ID` when it reconnects.
///
/// It exists because overrides change what an environment serves without a new commit (DESIGN §14). An event id is
/// `<commit>` while the environment serves its commit as committed, and `<commit>.<mark>` while overrides are in effect
/// there, the mark being a short hash of their ids. So two changes at one commit (an override begins, then ends) have
/// two ids, and a client that reconnects after the overrides changed is caught up instead of being told it is current.
public struct StreamEventID: Sendable, Hashable, CustomStringConvertible {
    /// The commit of the environment's last change.
    public var commit: String
    /// The mark of the overrides in effect in the environment, or `nil` when it serves its commit as committed.
    public var mark: String?

    /// Creates an id from its parts.
    public init(commit: String, mark: String?) {
        self.commit = commit
        self.mark = mark
    }

    /// Reads a `Last-Event-ID`: everything before the first `.` is the commit (a commit id has no `.`).
    public init(parsing text: String) {
        if let dot = text.firstIndex(of: ".") {
            self.init(commit: String(text[..<dot]), mark: String(text[text.index(after: dot)...]))
        } else {
            self.init(commit: text, mark: nil)
        }
    }

    /// `<commit>` or `<commit>.<mark>`.
    public var description: String {
        mark.map { "\(commit).\($0)" } ?? commit
    }

    /// For each environment with overrides in effect, the mark of those overrides: 12 hex digits of a hash of their
    /// sorted ids.
    public static func marks(of overrides: [FlagOverride]) -> [String: String] {
        var ids: [String: [String]] = [:]
        for override in overrides {
            ids[override.environment, default: []].append(override.id)
        }
        return ids.mapValues { String(Fingerprint.of($0.sorted().joined(separator: ",")).prefix(12)) }
    }
}
