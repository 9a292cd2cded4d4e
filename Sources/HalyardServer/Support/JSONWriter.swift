//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules
import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The server writes all its JSON with HalyardRules' writer; the alias makes the name visible in every file of the
/// module, including those that do not import HalyardRules.
typealias JSONWriter = HalyardRules.JSONWriter

/// What the HTTP routes add to HalyardRules' ``JSONWriter``: a `ByteBuffer` body, timestamps and one-key objects.
///
/// The hot routes (`/flags`, `/evaluate`, errors) answer with a handful of keys written straight into bytes, which is
/// several times faster than going through `JSONEncoder` and keeps key order stable for people reading the answers.
///
/// ```swift
/// var json = JSONWriter()
/// json.objectStart()
/// json.key("error")
/// json.string("unknown environment \"qa\"")
/// json.objectEnd()
/// let body = json.byteBuffer
/// ```
extension JSONWriter {
    /// The document as a `ByteBuffer`, ready to be a response body.
    var byteBuffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    /// Writes an ISO 8601 UTC timestamp (`2026-11-21T12:00:00Z`), or `null`.
    mutating func date(_ value: Date?) {
        guard let value else { return null() }
        string(value.formatted(.iso8601))
    }

    /// A one-key object, such as `{"error": "…"}` or `{"status": "…"}`.
    static func object(_ key: String, _ value: String) -> ByteBuffer {
        var json = JSONWriter(capacity: key.utf8.count + value.utf8.count + 16)
        json.objectStart()
        json.key(key)
        json.string(value)
        json.objectEnd()
        return json.byteBuffer
    }
}
