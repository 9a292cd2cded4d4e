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
    ///
    /// Every 304 of a polling client runs this, so it reads the header's bytes in place: several `If-None-Match`
    /// fields are one comma-separated list (RFC 9110 §5.3), which is how `HTTPFields` combines them.
    static func ifNoneMatch(_ headers: HTTPFields, matches digest: String) -> Bool {
        guard var header = headers[.ifNoneMatch] else { return false }
        var digest = digest
        return header.withUTF8 { header in
            digest.withUTF8 { digest in matches(header, digest) }
        }
    }

    /// Whether one entry of the comma-separated list `header` is `*` or names `digest`.
    private static func matches(_ header: UnsafeBufferPointer<UInt8>, _ digest: UnsafeBufferPointer<UInt8>) -> Bool {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var start = 0
        while start <= header.count {
            var end = start
            while end < header.count, header[end] != comma { end += 1 }
            var low = start
            var high = end
            while low < high, header[low] == space || header[low] == tab { low += 1 }
            while high > low, header[high - 1] == space || header[high - 1] == tab { high -= 1 }
            if high - low == 1, header[low] == UInt8(ascii: "*") { return true }
            if high - low >= 2, header[low] == UInt8(ascii: "W"), header[low + 1] == UInt8(ascii: "/") { low += 2 }
            if high - low >= 2, header[low] == quote, header[high - 1] == quote {
                low += 1
                high -= 1
            }
            if high - low == digest.count, UnsafeBufferPointer(rebasing: header[low..<high]).elementsEqual(digest) {
                return true
            }
            start = end + 1
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
