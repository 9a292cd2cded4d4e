//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import Testing

/// The webhook body escapes strings as every other JSON of Halyard does (HalyardRules' `JSONWriter`).
struct WebhookPayloadTests {
    @Test func bodyEscapesWithTheShortForms() throws {
        let database = try StateDatabase(path: Fixtures.databasePath())
        _ = try database.createSubscription(url: "http://127.0.0.1:9/hook", environments: ["production"], policy: .any)
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["tab\there": (nil, "1"), "back\u{8}feed\u{C}\"\\\u{1}": (nil, "1")])],
            fetchedAt: Date()
        )
        let body = String(decoding: try #require(try database.pendingMessages().first).body, as: UTF8.self)
        #expect(body.contains(#""added":["back\bfeed\f\"\\\u0001","tab\there"]"#))
    }
}
