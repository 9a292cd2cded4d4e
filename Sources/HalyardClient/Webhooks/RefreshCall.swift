//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HalyardRules

/// A refresh call as the application's HTTP server received it: the three Standard Webhooks headers and the exact
/// body, for ``HalyardClient/handleRefreshCall(_:)``.
public struct RefreshCall: Sendable {
    /// The `webhook-id` header.
    public var id: String?
    /// The `webhook-timestamp` header.
    public var timestamp: String?
    /// The `webhook-signature` header.
    public var signature: String?
    /// The request body, byte for byte.
    public var body: [UInt8]

    /// Creates a call from its headers and body.
    public init(id: String?, timestamp: String?, signature: String?, body: [UInt8]) {
        self.id = id
        self.timestamp = timestamp
        self.signature = signature
        self.body = body
    }

    /// Creates a call from headers looked up by lower-case name.
    public init(headers: [String: String], body: [UInt8]) {
        self.init(id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"], body: body)
    }
}

/// What ``HalyardClient/handleRefreshCall(_:)`` did with a call, and the HTTP status to answer it with.
public enum RefreshCallOutcome: Sendable, Equatable {
    /// Authentic and new: the flags were fetched if the call named a commit the client does not have (`204`).
    case accepted
    /// Authentic, but its `webhook-id` was accepted before; nothing was done (`204`, so Halyard stops retrying).
    case duplicate
    /// The signature or the timestamp is bad; nothing was done (`401`).
    case unauthorized(WebhookVerifier.Result)
    /// Authentic, but the body is not a Halyard change; nothing was done (`400`). The text says what is wrong.
    case badRequest(String)

    /// The HTTP status to answer with.
    public var httpStatus: Int {
        switch self {
        case .accepted, .duplicate: 204
        case .unauthorized: 401
        case .badRequest: 400
        }
    }
}

/// The body of a refresh call wasn't what Halyard sends.
struct RefreshCallBodyError: Error {
    let message: String
}

/// Reads the `flags.changed` body of DESIGN §7: `{"type": "flags.changed", "data": {"environment", "commit", …}}`.
enum RefreshCallBody {
    static func parse(_ body: [UInt8]) throws(RefreshCallBodyError) -> (environment: String, commit: String) {
        let root: JSONValue
        do {
            root = try JSONValue.parse(body)
        } catch {
            throw RefreshCallBodyError(message: "the body is not JSON: \(error)")
        }
        guard case .string("flags.changed")? = root["type"] else {
            throw RefreshCallBodyError(message: "the body's \"type\" is not \"flags.changed\"")
        }
        guard case .string(let environment)? = root["data"]?["environment"], case .string(let commit)? = root["data"]?["commit"] else {
            throw RefreshCallBodyError(message: "the body's \"data\" has no string \"environment\" and \"commit\"")
        }
        return (environment, commit)
    }
}
