//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation

/// Builds the exact bytes of a `flags.changed` webhook body (DESIGN §7).
///
/// The body is written by hand rather than by `JSONEncoder` so that its key order and escaping never change between
/// Foundation versions: it is built once at enqueue time, stored, and re-sent byte for byte on every retry.
enum WebhookPayload {
    /// The webhook event type.
    static let eventType = "flags.changed"

    /// The URL of an environment's flags: `<base>/v1/environments/<env>/flags`.
    static func flagsURL(base: String, environment: String) -> String {
        var base = base
        while base.hasSuffix("/") {
            base.removeLast()
        }
        return "\(base)/v1/environments/\(environment)/flags"
    }

    /// `{"type":"flags.changed","timestamp":…,"data":{"environment","commit","previousCommit","added","removed","changed","flagsUrl"}}`.
    static func body(for change: EnvironmentChange, enqueuedAt: Date, flagsBaseURL: String) -> [UInt8] {
        var json = "{\"type\":"
        json += Self.quoted(Self.eventType)
        json += ",\"timestamp\":"
        json += Self.quoted(Self.timestamp(enqueuedAt))
        json += ",\"data\":{\"environment\":"
        json += Self.quoted(change.environment)
        json += ",\"commit\":"
        json += Self.quoted(change.commit)
        json += ",\"previousCommit\":"
        json += change.previousCommit.map(Self.quoted) ?? "null"
        json += ",\"added\":"
        json += Self.array(change.added)
        json += ",\"removed\":"
        json += Self.array(change.removed)
        json += ",\"changed\":"
        json += Self.array(change.changed)
        json += ",\"flagsUrl\":"
        json += Self.quoted(Self.flagsURL(base: flagsBaseURL, environment: change.environment))
        json += "}}"
        return Array(json.utf8)
    }

    /// ISO 8601 in UTC with whole seconds, e.g. `2026-11-21T12:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }

    private static func array(_ values: [String]) -> String {
        "[" + values.map(Self.quoted).joined(separator: ",") + "]"
    }

    /// A JSON string literal.
    static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
