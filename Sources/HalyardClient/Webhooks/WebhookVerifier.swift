//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation
import Synchronization

/// Checks Halyard's refresh calls the Standard Webhooks way.
///
/// A call is authentic when its `webhook-signature` header holds a `v1,<base64>` entry equal to the HMAC-SHA256 of
/// `"{webhook-id}.{webhook-timestamp}.{body}"` under one of the secrets (several during a rotation), and fresh when its
/// timestamp is within the tolerance of the clock. A `webhook-id` already accepted is reported as a replay. The MACs
/// are compared in constant time.
public struct WebhookVerifier: Sendable {
    /// The prefix of Standard Webhooks secrets.
    public static let secretPrefix = "whsec_"

    /// What a check found.
    public enum Result: String, Sendable, Hashable {
        /// Signed with one of the secrets, fresh and new.
        case valid
        /// No entry of the signature header matches the body under any secret, or a header is missing.
        case invalidSignature = "invalid_signature"
        /// The timestamp is not decimal seconds or is outside the tolerance.
        case expired
        /// The `webhook-id` was accepted before.
        case replayed
    }

    private let keys: [SymmetricKey]
    private let tolerance: Int
    private let seen: SeenIDs

    /// Creates a verifier.
    ///
    /// - Parameters:
    ///   - secrets: `whsec_<base64>` secrets; a call signed with any of them is authentic.
    ///   - tolerance: How far the timestamp may be from the clock, either way.
    /// - Throws: ``HalyardClientError/Kind/invalidSecret`` naming the secret's position when one is not
    ///   `whsec_` followed by non-empty base64.
    public init(secrets: [String], tolerance: Duration = .seconds(300)) throws(HalyardClientError) {
        var keys: [SymmetricKey] = []
        for (index, secret) in secrets.enumerated() {
            guard secret.hasPrefix(Self.secretPrefix) else {
                throw HalyardClientError(.invalidSecret, subject: "webhookSecrets[\(index)]", message: "a webhook secret must start with \"\(Self.secretPrefix)\"")
            }
            let encoded = String(secret.dropFirst(Self.secretPrefix.count))
            guard let data = Data(base64Encoded: encoded), !data.isEmpty,
                data.base64EncodedString().trimmingCharacters(in: ["="]) == encoded.trimmingCharacters(in: ["="])
            else {
                throw HalyardClientError(
                    .invalidSecret, subject: "webhookSecrets[\(index)]", message: "the part after \"\(Self.secretPrefix)\" must be non-empty base64")
            }
            keys.append(SymmetricKey(data: data))
        }
        self.keys = keys
        self.tolerance = Int(tolerance.components.seconds)
        self.seen = SeenIDs()
    }

    /// Checks one call and, when it is valid, remembers its id so that the same call is a replay next time.
    ///
    /// - Parameters:
    ///   - id: The `webhook-id` header.
    ///   - timestamp: The `webhook-timestamp` header, as sent.
    ///   - signature: The `webhook-signature` header.
    ///   - body: The exact request body.
    ///   - now: The clock, in Unix seconds.
    public func verify(id: String?, timestamp: String?, signature: String?, body: [UInt8], now: Int = Int(Date().timeIntervalSince1970))
        -> Result
    {
        let result = check(id: id, timestamp: timestamp, signature: signature, body: body, now: now)
        guard result == .valid else { return result }
        return remember(id ?? "", timestamp: timestamp ?? "", now: now) ? .valid : .replayed
    }

    /// Checks the signature and the timestamp without remembering the id: ``Result/valid``,
    /// ``Result/invalidSignature`` or ``Result/expired``.
    func check(id: String?, timestamp: String?, signature: String?, body: [UInt8], now: Int = Int(Date().timeIntervalSince1970)) -> Result {
        guard let id, !id.isEmpty, let timestamp, let signature else { return .invalidSignature }
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        guard isSigned(message, by: signature) else { return .invalidSignature }
        guard let seconds = Self.unixSeconds(timestamp) else { return .expired }
        let (difference, overflow) = now.subtractingReportingOverflow(seconds)
        guard !overflow, difference.magnitude <= UInt(tolerance) else { return .expired }
        return .valid
    }

    /// Records an accepted call's id; `false` when it was accepted before (a replay).
    func remember(_ id: String, timestamp: String, now: Int = Int(Date().timeIntervalSince1970)) -> Bool {
        seen.insert(id, at: now, keepFor: tolerance)
    }

    private func isSigned(_ message: [UInt8], by header: String) -> Bool {
        var found = false
        for entry in header.split(separator: " ", omittingEmptySubsequences: true) {
            guard entry.hasPrefix("v1,"), let mac = Data(base64Encoded: String(entry.dropFirst(3))) else { continue }
            for key in keys where HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: key) {
                found = true
            }
        }
        return found
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

/// The `webhook-id`s accepted within the tolerance window; older ones are forgotten, since their timestamps would be
/// refused anyway.
final class SeenIDs: Sendable {
    private let ids = Mutex<[String: Int]>([:])

    /// Records `id`; `false` when it was there already.
    func insert(_ id: String, at now: Int, keepFor window: Int) -> Bool {
        ids.withLock { ids in
            if ids.count > 1024 {
                ids = ids.filter { now - $0.value <= 2 * window }
            }
            if ids[id] != nil { return false }
            ids[id] = now
            return true
        }
    }
}
