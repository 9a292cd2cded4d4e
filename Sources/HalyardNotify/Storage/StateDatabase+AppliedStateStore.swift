//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardSync

/// The SQLite implementation of the watcher's persistence seam: ``StateDatabase/recordApplied(_:changes:fetchedAt:)``
/// writes the applied commit and the outbox in one transaction, ``StateDatabase/appliedState()`` reads it back.
extension StateDatabase: AppliedStateStore {}

/// The SQLite implementation of the whole state: subscriptions, the outbox and the applied commit, for one replica.
extension StateDatabase: StateStore {
    /// The path of the SQLite file.
    public var location: String { self.path }
}
