//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import HTTPTypes
import Hummingbird
import NIOCore

/// The routes that make the watcher fetch now: the admin refresh and the git hosts' push webhooks.
///
/// A push hook whose delivery id was seen in the last hour is a replay: it is acknowledged (202) and causes no fetch.
extension HTTPAPI {
    func addTriggerRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.post("/v1/refresh") { request, _ in
            try self.authorizeAdmin(request)
            self.refresh()
            return self.json(JSONWriter.object("status", "refresh requested"), status: .accepted)
        }
        routes.post("/v1/hooks/git") { request, _ in
            guard let secret = self.gitHookSecret else {
                throw APIError.forbidden("git hook disabled: set auth.gitHookSecret")
            }
            let body = try await self.collectBody(request)
            try Self.verifyGitHook(headers: request.headers, body: body, secret: secret)
            if let delivery = Self.gitHookDeliveryID(in: request.headers), !self.hookDeliveries.isFirstSighting(of: delivery) {
                return self.json(JSONWriter.object("status", "duplicate delivery ignored"), status: .accepted)
            }
            self.refresh()
            return self.json(JSONWriter.object("status", "refresh requested"), status: .accepted)
        }
    }

    /// The id of a push hook delivery, prefixed by its host: GitHub's `X-GitHub-Delivery` (the same on a redelivery)
    /// or GitLab's `X-Gitlab-Event-UUID`; nil when the hook has neither.
    static func gitHookDeliveryID(in headers: HTTPFields) -> String? {
        if let id = headers[.gitHubDelivery] { return "github:" + id }
        if let id = headers[.gitlabEventUUID] { return "gitlab:" + id }
        return nil
    }

    /// Checks a push webhook: GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, or GitLab's
    /// `X-Gitlab-Token: <secret>`. Both comparisons are constant-time. Public so that `Fuzz/` runs it on arbitrary input.
    public static func verifyGitHook(headers: HTTPFields, body: ByteBuffer, secret: String) throws(APIError) {
        if let signature = headers[.hubSignature256] {
            let trimmed = Substring(signature).trimmingSpaces
            guard trimmed.hasPrefix("sha256="), let mac = Hex.decode(trimmed.dropFirst(7)), mac.count == SHA256.byteCount else {
                throw .unauthorized("malformed X-Hub-Signature-256: expected sha256=<64 hex digits>")
            }
            let key = SymmetricKey(data: Array(secret.utf8))
            let valid = HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(body.readableBytesView), using: key)
            guard valid else { throw .unauthorized("invalid X-Hub-Signature-256 signature") }
            return
        }
        if let token = headers[.gitlabToken] {
            guard AccessTokens.constantTimeEquals(token, secret) else { throw .unauthorized("invalid X-Gitlab-Token") }
            return
        }
        throw .unauthorized("missing webhook signature: send X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab)")
    }
}

/// Lower-case hexadecimal encoding, for webhook signatures.
enum Hex {
    /// The bytes of an even-length hex string, or `nil` if it has another character.
    static func decode(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(of: utf8[index]), let low = value(of: utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
