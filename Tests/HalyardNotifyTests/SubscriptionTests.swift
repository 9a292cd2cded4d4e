//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import Foundation
import HalyardNotify
import Testing

struct SubscriptionTests {
    func makeDatabase() throws -> StateDatabase {
        try StateDatabase(path: Fixtures.databasePath())
    }

    func expectError(_ code: NotifyError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code)", sourceLocation: sourceLocation)
        } catch let error as NotifyError {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.isClientError, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func testCreateGeneratesIdAndSecret() throws {
        let database = try self.makeDatabase()
        let subscription = try database.createSubscription(
            url: "https://app.example.com/halyard",
            environments: ["production", "staging", "production"],
            policy: .init(allowedHosts: nil)
        )
        #expect(subscription.id.hasPrefix("sub_"))
        #expect(subscription.secret.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(subscription.secret.dropFirst(6)))?.count == 32)
        #expect(subscription.environments == ["production", "staging"])
        #expect(!subscription.disabled && !subscription.isStatic)
        #expect(try database.subscription(id: subscription.id) == subscription)
        #expect(try database.subscriptions() == [subscription])
        #expect(try database.deliveries(subscriptionID: subscription.id).isEmpty)
    }

    @Test(arguments: [
        "ftp://example.com/hook", "file:///etc/passwd", "example.com/hook", "http://", "http:///path", "http://user:pw@example.com/",
        "http://user@example.com/", "", "not a url",
    ])
    func testRejectsInvalidURLs(url: String) throws {
        let database = try self.makeDatabase()
        self.expectError(.invalidURL) {
            _ = try database.createSubscription(url: url, environments: ["production"], policy: .init(allowedHosts: nil))
        }
        #expect(try database.subscriptions().isEmpty)
    }

    @Test func testAllowedHosts() throws {
        let database = try self.makeDatabase()
        let policy = SubscriptionPolicy(allowedHosts: ["hooks.internal", "*.example.com"])
        _ = try database.createSubscription(url: "http://HOOKS.internal:9000/x", environments: ["production"], policy: policy)
        _ = try database.createSubscription(url: "https://api.example.com/x", environments: ["production"], policy: policy)
        self.expectError(.hostNotAllowed) {
            _ = try database.createSubscription(url: "http://evil.com/x", environments: ["production"], policy: policy)
        }
        self.expectError(.hostNotAllowed) {
            _ = try database.createSubscription(url: "http://example.com.evil.com/x", environments: ["production"], policy: policy)
        }
        self.expectError(.hostNotAllowed) {
            _ = try database.createSubscription(url: "http://hooks.internal.evil.com/x", environments: ["production"], policy: policy)
        }
        #expect(try database.subscriptions().count == 2)
    }

    @Test(arguments: [[], ["Production"], ["-prod"], ["prod", "bad env"], [String(repeating: "a", count: 64)], ["prod/x"]])
    func testRejectsInvalidEnvironments(environments: [String]) throws {
        let database = try self.makeDatabase()
        self.expectError(.invalidEnvironments) {
            _ = try database.createSubscription(url: "http://127.0.0.1/hook", environments: environments, policy: .init(allowedHosts: nil))
        }
    }

    @Test func testDeleteDropsPendingMessages() throws {
        let database = try self.makeDatabase()
        let kept = try database.createSubscription(url: "http://127.0.0.1/a", environments: ["production"], policy: .any)
        let deleted = try database.createSubscription(url: "http://127.0.0.1/b", environments: ["production"], policy: .any)
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["x": (nil, "1")])],
            fetchedAt: Date()
        )
        #expect(try database.pendingMessageCount() == 2)
        try database.deleteSubscription(id: deleted.id)
        #expect(try database.subscription(id: deleted.id) == nil)
        #expect(try database.pendingMessages().map(\.subscriptionID) == [kept.id])

        do {
            try database.deleteSubscription(id: deleted.id)
            Issue.record("deleting twice should fail")
        } catch {
            #expect(error.isNotFound && error.isClientError)
            #expect(error.description.contains(deleted.id))
        }
        #expect(throws: NotifyError.subscriptionNotFound("sub_nope")) { try database.deliveries(subscriptionID: "sub_nope") }
    }

    @Test func testStaticSubscriptionsKeepStableIds() throws {
        let path = Fixtures.databasePath()
        let secret = WebhookSigner.generateSecret()
        let config = [
            StaticSubscription(url: "http://127.0.0.1:9001/a", environments: ["production"], secret: secret),
            StaticSubscription(url: "http://127.0.0.1:9001/b", environments: ["staging", "production"], secret: secret),
        ]
        let firstIDs: [String]
        do {
            let database = try StateDatabase(path: path)
            try database.replaceStaticSubscriptions(config)
            try database.replaceStaticSubscriptions(config)
            let subscriptions = try database.subscriptions()
            #expect(subscriptions.count == 2)
            #expect(subscriptions.allSatisfy { $0.isStatic && $0.id.hasPrefix("static_") })
            firstIDs = subscriptions.map(\.id).sorted()
        }
        // Reopened, with a new secret and the environments in another order: same ids.
        let database = try StateDatabase(path: path)
        let rotated = WebhookSigner.generateSecret()
        try database.replaceStaticSubscriptions([
            StaticSubscription(url: "http://127.0.0.1:9001/b", environments: ["production", "staging"], secret: rotated),
            StaticSubscription(url: "http://127.0.0.1:9001/a", environments: ["production"], secret: rotated),
        ])
        let subscriptions = try database.subscriptions()
        #expect(subscriptions.map(\.id).sorted() == firstIDs)
        #expect(subscriptions.allSatisfy { $0.secret == rotated })

        let staticID = try #require(subscriptions.first?.id)
        #expect(throws: NotifyError.staticSubscriptionIsReadOnly(staticID)) { try database.deleteSubscription(id: staticID) }
    }

    @Test func testRemovedStaticSubscriptionsGoAwayWithTheirMessages() throws {
        let database = try self.makeDatabase()
        let secret = WebhookSigner.generateSecret()
        let a = StaticSubscription(url: "http://127.0.0.1:9001/a", environments: ["production"], secret: secret)
        let b = StaticSubscription(url: "http://127.0.0.1:9001/b", environments: ["production"], secret: secret)
        try database.replaceStaticSubscriptions([a, b])
        let dynamic = try database.createSubscription(url: "http://127.0.0.1:9001/c", environments: ["production"], policy: .any)
        try database.recordApplied(
            Fixtures.applied("c2"),
            changes: [Fixtures.change("production", "c2", from: "c1", ["x": (nil, "1")])],
            fetchedAt: Date()
        )
        #expect(try database.pendingMessageCount() == 3)

        try database.replaceStaticSubscriptions([a])
        let remaining = try database.subscriptions()
        #expect(remaining.count == 2)
        #expect(remaining.contains { $0.id == dynamic.id })
        #expect(remaining.contains { $0.url == a.url && $0.isStatic })
        #expect(try database.pendingMessageCount() == 2)
    }

    @Test func testStaticSubscriptionsAreValidated() throws {
        let database = try self.makeDatabase()
        let good = StaticSubscription(url: "http://127.0.0.1/a", environments: ["production"], secret: WebhookSigner.generateSecret())
        var badSecret = good
        badSecret.secret = "hunter2"
        var badURL = good
        badURL.url = "gopher://x"
        self.expectError(.invalidSecret) { try database.replaceStaticSubscriptions([good, badSecret]) }
        self.expectError(.invalidURL) { try database.replaceStaticSubscriptions([badURL]) }
        #expect(try database.subscriptions().isEmpty)
    }

    @Test func testDatabaseErrorsNameThePath() throws {
        // A directory where the file should be cannot be opened as a database.
        let path = Fixtures.databasePath()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            _ = try StateDatabase(path: path)
            Issue.record("opening a directory should fail")
        } catch {
            #expect(error.code == .database)
            #expect(!error.isClientError)
            #expect(error.description.contains(path))
        }
    }
}
