//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardSync

/// The SQLite implementation of the watcher's persistence seam: ``StateDatabase/recordApplied(_:changes:fetchedAt:)``
/// writes the applied commit and the outbox in one transaction, ``StateDatabase/appliedState()`` reads it back.
extension StateDatabase: AppliedStateStore {}
