//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

extension WebhookSigner {
    /// The tolerance that Standard Webhooks recommends between a request's timestamp and the receiver's clock.
    public static let defaultTimestampTolerance = 300

    /// Checks a request's Standard Webhooks headers against its body, as a receiver does.
    ///
    /// Halyard only sends webhooks; this is the receiving side of ``signature(id:timestamp:body:)``, for tests, the
    /// demo receiver and the fuzzers in `Fuzz/`. The request is authentic when the timestamp is decimal Unix seconds
    /// within `tolerance` of `now` and one of the space-separated `v1,<base64>` entries of the signature header is the
    /// HMAC of `"{id}.{timestamp}.{body}"`; entries of other versions are skipped. The MAC comparison is constant-time.
    ///
    /// ```swift
    /// let signer = try WebhookSigner(secret: secret)
    /// let ok = signer.isValidSignature(
    ///     headers["webhook-signature"] ?? "", id: headers["webhook-id"] ?? "", timestamp: headers["webhook-timestamp"] ?? "",
    ///     body: body, now: Int(Date().timeIntervalSince1970))
    /// ```
    ///
    /// - Parameters:
    ///   - signatures: The `webhook-signature` header.
    ///   - id: The `webhook-id` header.
    ///   - timestamp: The `webhook-timestamp` header, as sent.
    ///   - body: The exact request body.
    ///   - now: The receiver's clock, in Unix seconds.
    ///   - tolerance: How many seconds the timestamp may differ from `now`, either way.
    /// - Returns: Whether the request is authentic and fresh.
    public func isValidSignature(
        _ signatures: String,
        id: String,
        timestamp: String,
        body: [UInt8],
        now: Int,
        tolerance: Int = WebhookSigner.defaultTimestampTolerance
    ) -> Bool {
        guard let seconds = Self.unixSeconds(timestamp) else { return false }
        let (difference, overflow) = now.subtractingReportingOverflow(seconds)
        guard !overflow, tolerance >= 0, difference.magnitude <= UInt(tolerance) else { return false }
        var message = Array("\(id).\(seconds).".utf8)
        message.append(contentsOf: body)
        for entry in signatures.split(separator: " ", omittingEmptySubsequences: true) {
            guard entry.hasPrefix("v1,"), let mac = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: key) { return true }
        }
        return false
    }

    /// The seconds of a `webhook-timestamp` header: one to 18 ASCII digits, nothing else.
    private static func unixSeconds(_ text: String) -> Int? {
        let digits = text.utf8
        guard (1...18).contains(digits.count), digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }
}
