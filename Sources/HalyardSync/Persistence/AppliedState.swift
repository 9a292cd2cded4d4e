//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// The commit Halyard last applied, persisted so a restart diffs against what was actually served.
///
/// DESIGN §4: after a restart the service diffs the branch tip against this commit and publishes what changed while
/// it was down; a fresh service (no state) publishes nothing for its first snapshot.
public struct AppliedState: Sendable, Equatable {
    /// The applied commit.
    public var commit: String
    /// When it was applied.
    public var appliedAt: Date
    /// For each environment, the commit of its last effective change (`lastChange` in `/v1/status`).
    public var lastChange: [String: String]
    /// The ids of the break-glass overrides in effect in what was served and published with ``commit``, sorted
    /// (DESIGN §14): what is published is the commit with these overrides on top.
    public var overrides: [String]

    /// Creates an applied state.
    public init(commit: String, appliedAt: Date, lastChange: [String: String], overrides: [String] = []) {
        self.commit = commit
        self.appliedAt = appliedAt
        self.lastChange = lastChange
        self.overrides = overrides
    }
}
