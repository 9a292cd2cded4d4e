//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@testable import HalyardServer

/// Console sessions are signed cookies: any replica with the same tokens accepts them (DESIGN §10), nothing else does.
struct ConsoleSessionTests {
    @Test func testAnotherReplicaWithTheSameTokensAcceptsTheSession() throws {
        let replicaA = ConsoleSessions(readTokens: ["r1", "r2"], adminToken: "admin")
        let replicaB = ConsoleSessions(readTokens: ["r2", "r1"], adminToken: "admin")
        let session = replicaA.start(role: .read)
        let accepted = try #require(replicaB.session(id: session.id))
        #expect(accepted.role == .read)
        #expect(accepted.csrfToken == session.csrfToken)
        #expect(accepted.csrfToken.count == 64)
        #expect(!session.id.contains("r1") && !session.id.contains("admin"))
    }

    @Test func testOtherTokensTamperingAndExpiryEndTheSession() {
        let sessions = ConsoleSessions(readTokens: ["r1"], adminToken: "admin")
        let session = sessions.start(role: .read)
        #expect(ConsoleSessions(readTokens: ["r1"], adminToken: "other").session(id: session.id) == nil)
        #expect(ConsoleSessions(readTokens: ["r9"], adminToken: "admin").session(id: session.id) == nil)
        let promoted = "admin" + session.id.dropFirst("read".count)
        #expect(sessions.session(id: promoted) == nil)
        let parts = session.id.split(separator: ".")
        let extended = "read.\(Int64(parts[1])! + 3600).\(parts[2]).\(parts[3])"
        #expect(sessions.session(id: extended) == nil)
        for garbage in ["", "read", "read.1.2", "read.x.y.z", "read.1.2.3.4", session.id + "0"] {
            #expect(sessions.session(id: garbage) == nil, "\(garbage)")
        }
        #expect(sessions.session(id: session.id, now: Date().addingTimeInterval(ConsoleSessions.lifetime + 1)) == nil)
        #expect(sessions.session(id: session.id) != nil)
    }

    @Test func testLoggingOutEndsTheSessionInThisProcess() {
        let sessions = ConsoleSessions(readTokens: [], adminToken: "admin")
        let first = sessions.start(role: .admin)
        let second = sessions.start(role: .admin)
        #expect(first.id != second.id && first.csrfToken != second.csrfToken)
        sessions.end(id: first.id)
        #expect(sessions.session(id: first.id) == nil)
        #expect(sessions.session(id: second.id)?.role == .admin)
    }
}
