//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardRules
import HalyardSync

/// Builds the exact bytes of a `flags.changed` webhook body (DESIGN §7).
///
/// The body is written with HalyardRules' `JSONWriter` rather than `JSONEncoder` so that its key order and escaping
/// never change between Foundation versions: it is built once at enqueue time, stored, and re-sent byte for byte on
/// every retry.
enum WebhookPayload {
    /// The webhook event type.
    static let eventType = "flags.changed"

    /// The path of an environment's flags, as stored in `flagsUrl`: `/v1/environments/<env>/flags`.
    static func flagsPath(environment: String) -> String {
        "/v1/environments/\(environment)/flags"
    }

    /// `{"type":"flags.changed","timestamp":…,"data":{"environment","commit","previousCommit","added","removed","changed","flagsUrl"}}`.
    ///
    /// `flagsUrl` is the path alone; ``resolvingFlagsURL(_:base:)`` completes it when sending.
    static func body(for change: EnvironmentChange, enqueuedAt: Date) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.objectStart()
        json.key("type")
        json.string(Self.eventType)
        json.key("timestamp")
        json.string(Self.timestamp(enqueuedAt))
        json.key("data")
        json.objectStart()
        json.key("environment")
        json.string(change.environment)
        json.key("commit")
        json.string(change.commit)
        json.key("previousCommit")
        json.string(change.previousCommit)
        json.key("added")
        json.strings(change.added)
        json.key("removed")
        json.strings(change.removed)
        json.key("changed")
        json.strings(change.changed)
        json.key("flagsUrl")
        json.string(Self.flagsPath(environment: change.environment))
        json.objectEnd()
        json.objectEnd()
        return json.bytes
    }

    /// The stored key and start of a `flagsUrl` that is a path only: `"flagsUrl":"/`. The writer escapes every quote
    /// inside a string, so these bytes occur only as the key itself, never inside a flag id or a commit.
    private static let relativeFlagsURL: [UInt8] = Array(#""flagsUrl":"/"#.utf8)

    /// The body as sent: a stored `flagsUrl` that is a path only gets `base` in front of it. A body stored with an
    /// absolute URL (written by an older version) comes back unchanged.
    static func resolvingFlagsURL(_ body: [UInt8], base: String) -> [UInt8] {
        let marker = Self.relativeFlagsURL
        guard body.count >= marker.count,
            let start = (0...(body.count - marker.count)).first(where: { body[$0..<($0 + marker.count)].elementsEqual(marker) })
        else { return body }
        var base = base
        while base.hasSuffix("/") {
            base.removeLast()
        }
        // The base, escaped as a JSON string would be, without its quotes.
        var quoted: [UInt8] = []
        JSONWriter.appendQuoted(base, to: &quoted)
        let escaped = quoted.dropFirst().dropLast()
        let insertAt = start + marker.count - 1
        var resolved = Array(body[..<insertAt])
        resolved.reserveCapacity(body.count + escaped.count)
        resolved += escaped
        resolved += body[insertAt...]
        return resolved
    }

    /// ISO 8601 in UTC with whole seconds, e.g. `2026-11-21T12:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
