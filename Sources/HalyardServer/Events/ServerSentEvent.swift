//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import HalyardSync
import NIOCore

/// The wire format of the `/v1/environments/{env}/stream` events.
///
/// Kept in one place so the live events of ``EventHub`` and the catch-up event of a reconnecting client are the same
/// bytes for the same change.
enum ServerSentEvent {
    /// `id: <commit>`, `event: flags-changed` and `data: {environment, commit, added, removed, changed}`.
    /// `id` is the event's ``StreamEventID``: the commit, marked while overrides are in effect.
    static func flagsChanged(environment: String, commit: String, id: String, changes: EnvironmentChangeSet) -> ByteBuffer {
        flagsChanged(environment: environment, commit: commit, id: id, added: changes.added, removed: changes.removed, changed: changes.changed)
    }

    static func flagsChanged(
        environment: String,
        commit: String,
        id: String,
        added: [String],
        removed: [String],
        changed: [String]
    ) -> ByteBuffer {
        var json = JSONWriter(capacity: 256)
        json.objectStart()
        json.key("environment")
        json.string(environment)
        json.key("commit")
        json.string(commit)
        json.key("added")
        json.strings(added)
        json.key("removed")
        json.strings(removed)
        json.key("changed")
        json.strings(changed)
        json.objectEnd()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.bytes.count + id.utf8.count + 40)
        buffer.writeString("id: ")
        buffer.writeString(id)
        buffer.writeString("\nevent: flags-changed\ndata: ")
        buffer.writeBytes(json.bytes)
        buffer.writeString("\n\n")
        return buffer
    }

    /// A comment line that keeps proxies and clients from timing the connection out.
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    /// The comment sent as soon as a client is subscribed, so it knows the stream is live.
    static let connected = ByteBuffer(string: ": connected\n\n")
}
