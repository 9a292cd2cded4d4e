//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes

/// Checks the tokens that guard the admin and read routes.
///
/// Every comparison runs in time independent of where the strings differ, so a client cannot find a token byte by
/// byte from response times.
enum AccessTokens {
    /// The token of `Authorization: Bearer <token>`, if the header has that form.
    static func bearerToken(in headers: HTTPFields) -> Substring? {
        guard let value = headers[.authorization] else { return nil }
        let trimmed = value.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).drop { $0 == " " }
        var end = token.endIndex
        while end > token.startIndex, token[token.index(before: end)] == " " { end = token.index(before: end) }
        return token[..<end]
    }

    /// Compares two secrets in constant time for a given length.
    static func constantTimeEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        constantTimeEquals(bytes: lhs.utf8, rhs.utf8)
    }

    /// Compares two byte sequences without stopping at the first difference.
    static func constantTimeEquals(bytes lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count) | (lhs.count == rhs.count ? 0 : 1)
        var right = rhs.makeIterator()
        for byte in lhs {
            difference |= byte ^ (right.next() ?? ~byte)
        }
        return difference == 0
    }

    /// True when `candidate` equals one of `tokens`; every token is compared, match or not.
    static func matchesAny(_ candidate: some StringProtocol, of tokens: [String]) -> Bool {
        var matched = false
        for token in tokens where constantTimeEquals(candidate, token) {
            matched = true
        }
        return matched
    }
}

extension HTTPField.Name {
    /// `X-API-Key`, the alternative to `Authorization: Bearer` on read routes.
    static var apiKey: Self { Self("X-API-Key")! }
    /// GitHub's push webhook signature, `sha256=<hex HMAC-SHA256>`.
    static var hubSignature256: Self { Self("X-Hub-Signature-256")! }
    /// GitLab's webhook secret token.
    static var gitlabToken: Self { Self("X-Gitlab-Token")! }
    /// GitHub's id of a webhook delivery, kept on a redelivery.
    static var gitHubDelivery: Self { Self("X-GitHub-Delivery")! }
    /// GitLab's id of a webhook event.
    static var gitlabEventUUID: Self { Self("X-Gitlab-Event-UUID")! }
    /// The SSE reconnection header.
    static var lastEventID: Self { Self("Last-Event-ID")! }
}
