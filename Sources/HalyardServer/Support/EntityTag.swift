//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes

/// `ETag` and `If-None-Match` handling for the flag listings (RFC 9110 §13.1.2).
enum EntityTag {
    /// The quoted strong tag of a digest: `"<digest>"`.
    static func quoted(_ digest: String) -> String { "\"" + digest + "\"" }

    /// True when `If-None-Match` names the digest, weakly or strongly, in a list, or as `*`.
    ///
    /// The quoted form (`"<digest>"`, as sent in `ETag`) is the canonical one. The bare digest, as `/v1/status`
    /// shows it, is accepted too: a client that copies it from there is not sent the whole body again.
    static func ifNoneMatch(_ headers: HTTPFields, matches digest: String) -> Bool {
        for value in headers[values: .ifNoneMatch] where matches(value, digest) {
            return true
        }
        return false
    }

    private static func matches(_ header: String, _ digest: String) -> Bool {
        for part in header.split(separator: ",") {
            var tag = part.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag.count >= 2, tag.first == "\"", tag.last == "\"" { tag = tag.dropFirst().dropLast() }
            if tag == digest { return true }
        }
        return false
    }
}

extension Substring {
    /// The substring without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
