//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import HalyardSync
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The wire format of `/environments/{env}/ofrep/v1/events` (OFREP ADR-0008, `shared/specs/ofrep-event-streams.yaml`).
///
/// OFREP events carry no change list: they only tell the provider to re-fetch. Halyard sends one per effective change
/// of the environment:
///
/// ```
/// id: <commit>
/// event: message
/// data: {"type":"refetchEvaluation","etag":"<environment digest>","lastModified":1771622898}
/// ```
///
/// `etag` is the environment digest (providers pass it back as `flagConfigEtag`) and `lastModified` the Unix time in
/// seconds when the served commit was applied.
enum OFREPEvent {
    /// A `refetchEvaluation` event. `etag` is left out when the environment no longer exists.
    static func refetch(id: String, etag: String?, lastModified: Date) -> ByteBuffer {
        var json = JSONWriter(capacity: 96)
        json.objectStart()
        json.key("type")
        json.string("refetchEvaluation")
        if let etag {
            json.key("etag")
            json.string(etag)
        }
        json.key("lastModified")
        json.int(Int(max(0, lastModified.timeIntervalSince1970.rounded(.down))))
        json.objectEnd()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.bytes.count + id.utf8.count + 32)
        buffer.writeString("id: ")
        buffer.writeString(id)
        buffer.writeString("\nevent: message\ndata: ")
        buffer.writeBytes(json.bytes)
        buffer.writeString("\n\n")
        return buffer
    }

    /// The event for `environment` as `state` serves it, announced with `id`.
    static func refetch(id: String, environment: String, in state: ServedState) -> ByteBuffer {
        refetch(id: id, etag: state.snapshot.environments[environment]?.digest, lastModified: state.appliedAt)
    }
}
