//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

/// Signs webhook requests the Standard Webhooks way, so receivers can use any Standard Webhooks library to verify them.
///
/// The signature is `v1,` followed by the base64 HMAC-SHA256 of `"{id}.{timestamp}.{body}"`, keyed with the
/// base64-decoded part of the `whsec_…` secret.
///
/// ```swift
/// let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
/// let header = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: Array(#"{"test": 2432232314}"#.utf8))
/// // "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/// ```
public struct WebhookSigner: Sendable {
    /// The prefix of Standard Webhooks secrets.
    public static let secretPrefix = "whsec_"

    let key: SymmetricKey

    /// Creates a signer from a `whsec_<base64>` secret.
    ///
    /// - Throws: ``NotifyError/Code/invalidSecret`` when the secret lacks the prefix or is not base64.
    public init(secret: String) throws(NotifyError) {
        guard secret.hasPrefix(Self.secretPrefix) else {
            throw .invalidSecret("webhook signing", reason: "it must start with \"\(Self.secretPrefix)\"")
        }
        let encoded = secret.dropFirst(Self.secretPrefix.count)
        // The round trip refuses strings that Foundation on Linux decodes leniently (`"===="` gives one zero byte).
        guard let data = Data(base64Encoded: String(encoded)), !data.isEmpty,
            data.base64EncodedString().trimmingCharacters(in: ["="]) == encoded.trimmingCharacters(in: ["="])
        else {
            throw .invalidSecret("webhook signing", reason: "the part after \"\(Self.secretPrefix)\" must be non-empty base64")
        }
        self.key = SymmetricKey(data: data)
    }

    /// Makes a new random secret: `whsec_` and the base64 of 32 random bytes.
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Self.secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The `webhook-signature` header value for one request.
    ///
    /// - Parameters:
    ///   - id: The `webhook-id` header.
    ///   - timestamp: The `webhook-timestamp` header (Unix seconds).
    ///   - body: The exact request body.
    /// - Returns: `v1,<base64 signature>`.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var hmac = HMAC<SHA256>(key: self.key)
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}
