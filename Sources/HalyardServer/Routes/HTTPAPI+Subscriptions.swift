//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardNotify
import HalyardRules
import Hummingbird
import Logging
import NIOCore

/// The admin routes over webhook subscriptions and their delivery logs (DESIGN §6, §7).
///
/// Secrets are shown once, in the answer to `POST`; listings never show them.
extension HTTPAPI {
    func addSubscriptionRoutes(to routes: inout RouteTable<BasicRequestContext>) {
        routes.get("/v1/subscriptions") { request, _ in
            try self.authorizeAdmin(request)
            let subscriptions = try await self.notify { try await self.database.subscriptions() }
            return self.json { json in
                json.objectStart()
                json.key("subscriptions")
                json.arrayStart()
                for subscription in subscriptions {
                    json.subscription(subscription, withSecret: false)
                }
                json.arrayEnd()
                json.objectEnd()
            }
        }
        routes.post("/v1/subscriptions") { request, _ in
            try self.authorizeAdmin(request)
            let body = try await self.jsonObjectBody(request)
            guard case .string(let url)? = body["url"] else {
                throw APIError.badRequest("url must be a string: the http(s) URL that receives the webhooks")
            }
            guard case .array(let items)? = body["environments"] else {
                throw APIError.badRequest("environments must be an array of environment names")
            }
            var environments: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item else {
                    throw APIError.badRequest("environments must be an array of environment names: environments[\(index)] is \(item.typeDescription)")
                }
                environments.append(name)
            }
            let subscription = try await self.notify {
                try await self.database.createSubscription(url: url, environments: environments, policy: self.configuration.subscriptionPolicy)
            }
            return self.json(status: .created, headers: [.location: "/v1/subscriptions/\(subscription.id)"]) { json in
                json.subscription(subscription, withSecret: true)
            }
        }
        routes.get("/v1/subscriptions/{id}") { request, context in
            try self.authorizeAdmin(request)
            let id = context.parameters.get("id") ?? ""
            guard let subscription = try await self.notify({ try await self.database.subscription(id: id) }) else {
                throw APIError.notFound("subscription \"\(id)\" not found")
            }
            return self.json { json in json.subscription(subscription, withSecret: false) }
        }
        routes.delete("/v1/subscriptions/{id}") { request, context in
            try self.authorizeAdmin(request)
            let id = context.parameters.get("id") ?? ""
            try await self.notify { try await self.database.deleteSubscription(id: id) }
            return Response(status: .noContent)
        }
        routes.get("/v1/subscriptions/{id}/deliveries") { request, context in
            try self.authorizeAdmin(request)
            let id = context.parameters.get("id") ?? ""
            let deliveries = try await self.notify { try await self.database.deliveries(subscriptionID: id, limit: 100) }
            return self.json { json in
                json.objectStart()
                json.key("deliveries")
                json.arrayStart()
                for delivery in deliveries {
                    json.delivery(delivery)
                }
                json.arrayEnd()
                json.objectEnd()
            }
        }
    }

    /// Runs a state-database call, mapping its errors to HTTP: 404, 409 for static subscriptions, 400 for other
    /// client errors, and a logged 500 when the database itself fails.
    func notify<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch let error as NotifyError {
            if error.isNotFound { throw .notFound(error.message) }
            if error.code == .staticSubscriptionIsReadOnly { throw .conflict(error.message) }
            if error.isClientError { throw .badRequest(error.message) }
            if error.code == .unavailable { throw APIError(.serviceUnavailable, error.message, headers: [.retryAfter: "5"]) }
            logger.error("state database failed", metadata: ["error": "\(error.message)"])
            throw APIError(.internalServerError, "the state database failed; see the server log")
        } catch {
            logger.error("state database failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "the state database failed; see the server log")
        }
    }
}

extension JSONWriter {
    /// `{id, url, environments, secret?, createdAt, disabled, static}`.
    mutating func subscription(_ subscription: Subscription, withSecret: Bool) {
        objectStart()
        key("id")
        string(subscription.id)
        key("url")
        string(subscription.url)
        key("environments")
        strings(subscription.environments)
        if withSecret {
            key("secret")
            string(subscription.secret)
        }
        key("createdAt")
        date(subscription.createdAt)
        key("disabled")
        bool(subscription.disabled)
        key("static")
        bool(subscription.isStatic)
        objectEnd()
    }

    /// One delivery attempt of a subscription's log.
    mutating func delivery(_ attempt: DeliveryAttempt) {
        objectStart()
        key("messageId")
        string(attempt.messageID)
        key("environment")
        string(attempt.environment)
        key("commit")
        string(attempt.commit)
        key("attempt")
        int(attempt.attempt)
        key("at")
        date(attempt.at)
        key("status")
        int(attempt.status)
        key("durationSeconds")
        double(attempt.durationSeconds)
        key("error")
        string(attempt.error)
        key("result")
        string(attempt.result)
        objectEnd()
    }
}
