//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Crypto
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a console visitor may see: the read pages, or the admin page too.
enum ConsoleRole: String, Sendable, Equatable {
    /// Logged in with a read token.
    case read
    /// Logged in with the admin token.
    case admin
}

/// One logged-in console visitor, known by the signed value of its `HttpOnly` cookie.
///
/// The session keeps the role, never the token: the token is checked once at login and forgotten.
struct ConsoleSession: Sendable, Equatable {
    /// The cookie value: `role.expiry.nonce.signature`.
    let id: String
    /// What the visitor may see.
    let role: ConsoleRole
    /// The token that every form of this session carries in a hidden field (CSRF).
    let csrfToken: String
    /// When the session ends.
    let expires: Date
}

/// The console's logged-in sessions, as cookies signed with a key derived from the configured tokens.
///
/// Sessions hold no server-side state, so every replica behind a load balancer (DESIGN §10) accepts a session that
/// another one started, with no sticky sessions, and a restart logs nobody out. The key is a hash of every configured
/// token: replicas with the same tokens share it, and changing a token ends every session. Logging out clears the
/// cookie and remembers the session as ended in this process until it would have expired (at most ``capacity``).
final class ConsoleSessions: Sendable {
    /// How long a session lasts.
    static let lifetime: TimeInterval = 12 * 3600
    /// The most ended sessions remembered at once.
    let capacity: Int
    private let key: SymmetricKey
    private let ended = Mutex<[String: Date]>([:])

    /// Creates the sessions of a server configured with these tokens.
    init(readTokens: [String], adminToken: String?, capacity: Int = 10_000) {
        var material = "halyard console session v1\n"
        for token in readTokens.sorted() { material += "read \(token.utf8.count) \(token)\n" }
        if let adminToken { material += "admin \(adminToken.utf8.count) \(adminToken)\n" }
        self.key = SymmetricKey(data: SHA256.hash(data: Array(material.utf8)))
        self.capacity = capacity
    }

    /// Starts a session with a fresh nonce.
    func start(role: ConsoleRole, now: Date = Date()) -> ConsoleSession {
        let expiry = Int64((now.timeIntervalSince1970 + Self.lifetime).rounded(.down))
        let payload = "\(role.rawValue).\(expiry).\(Self.randomToken())"
        return makeSession(id: payload + "." + signature(of: payload), payload: payload, role: role, expiry: expiry)
    }

    /// The live session with this cookie value: correctly signed, not expired, not ended.
    func session(id: String, now: Date = Date()) -> ConsoleSession? {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let role = ConsoleRole(rawValue: String(parts[0])), let expiry = Int64(parts[1]) else {
            return nil
        }
        let payload = parts[0..<3].joined(separator: ".")
        guard AccessTokens.constantTimeEquals(String(parts[3]), signature(of: payload)) else { return nil }
        guard Double(expiry) > now.timeIntervalSince1970 else { return nil }
        guard ended.withLock({ $0[id] == nil }) else { return nil }
        return makeSession(id: id, payload: payload, role: role, expiry: expiry)
    }

    /// Ends a session in this process (its cookie is cleared as well).
    func end(id: String, now: Date = Date()) {
        guard let session = session(id: id, now: now) else { return }
        ended.withLock { ended in
            ended = ended.filter { $0.value > now }
            while ended.count >= capacity, let oldest = ended.min(by: { $0.value < $1.value }) {
                ended[oldest.key] = nil
            }
            ended[id] = session.expires
        }
    }

    private func makeSession(id: String, payload: String, role: ConsoleRole, expiry: Int64) -> ConsoleSession {
        ConsoleSession(
            id: id,
            role: role,
            csrfToken: signature(of: "csrf." + payload),
            expires: Date(timeIntervalSince1970: Double(expiry))
        )
    }

    /// HMAC-SHA256 of `text` under the session key, in hex.
    private func signature(of text: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        return code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// 32 random bytes in hex, from the system's secure generator.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = ""
        hex.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next()
            let text = String(word, radix: 16)
            hex += String(repeating: "0", count: 16 - text.count) + text
        }
        return hex
    }
}
