//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a console visitor may see: the read pages, or the admin page too.
enum ConsoleRole: Sendable, Equatable {
    /// Logged in with a read token.
    case read
    /// Logged in with the admin token.
    case admin
}

/// One logged-in console visitor, known by the random id in its `HttpOnly` cookie.
///
/// The session keeps the role, never the token: the token is checked once at login and forgotten.
struct ConsoleSession: Sendable, Equatable {
    /// The cookie value.
    let id: String
    /// What the visitor may see.
    let role: ConsoleRole
    /// The token that every form of this session carries in a hidden field (CSRF).
    let csrfToken: String
    /// When the session ends.
    let expires: ContinuousClock.Instant
}

/// The console's logged-in sessions, in memory: a restart logs everybody out, which is fine for a read-only view.
///
/// At most ``capacity`` sessions are kept; beyond that the oldest is dropped, so a client that logs in in a loop cannot
/// grow memory without bound.
final class ConsoleSessions: Sendable {
    /// How long a session lasts.
    static let lifetime: Duration = .seconds(12 * 3600)
    /// The most sessions kept at once.
    let capacity: Int
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// Starts a session with a fresh id and CSRF token.
    func start(role: ConsoleRole) -> ConsoleSession {
        let session = ConsoleSession(
            id: Self.randomToken(),
            role: role,
            csrfToken: Self.randomToken(),
            expires: .now + Self.lifetime
        )
        sessions.withLock { sessions in
            let now = ContinuousClock.now
            sessions = sessions.filter { $0.value.expires > now }
            while sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.expires < $1.expires }) {
                sessions[oldest.id] = nil
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this id.
    func session(id: String) -> ConsoleSession? {
        sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expires > .now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Ends a session.
    func end(id: String) {
        sessions.withLock { _ = $0.removeValue(forKey: id) }
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
