//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardRules
import HalyardSync
import Hummingbird
import NIOCore

/// The helpers every route uses: authorisation, the served state, bodies and JSON answers.
extension HTTPAPI {
    // MARK: - Authorisation

    /// Lets a read route through when read tokens are off, or when the request carries a read (or the admin) token as
    /// `Authorization: Bearer` or `X-API-Key`.
    func authorizeRead(_ request: Request) throws(APIError) {
        try authorizeRead(request.headers)
    }

    /// Lets a read route through, as `authorizeRead(_ request:)` does, from the request's headers.
    func authorizeRead(_ headers: HTTPFields) throws(APIError) {
        guard !readTokens.isEmpty else { return }
        let presented: Substring
        if let bearer = AccessTokens.bearerToken(in: headers) {
            presented = bearer
        } else if let key = headers[.apiKey] {
            presented = Substring(key)
        } else {
            throw .unauthorized("missing read token: send Authorization: Bearer <token> or X-API-Key: <token>")
        }
        let isAdmin = adminToken.map { AccessTokens.constantTimeEquals(presented, $0) } ?? false
        guard AccessTokens.matchesAny(presented, of: readTokens) || isAdmin else {
            throw .unauthorized("invalid read token")
        }
    }

    /// Lets an admin route through only with `Authorization: Bearer <admin token>`.
    func authorizeAdmin(_ request: Request) throws(APIError) {
        guard let adminToken else {
            throw .forbidden("admin API disabled: set auth.adminToken")
        }
        guard let presented = AccessTokens.bearerToken(in: request.headers) else {
            throw .unauthorized("missing admin token: send Authorization: Bearer <token>")
        }
        guard AccessTokens.constantTimeEquals(presented, adminToken) else {
            throw .unauthorized("invalid admin token")
        }
    }

    // MARK: - Served state

    /// The served state, taken once so that a request sees one whole commit.
    func servedState() throws(APIError) -> ServedState {
        guard let state = store.current else { throw .notReady }
        return state
    }

    /// The environment of the path, from the given state.
    func environment(_ context: some RequestContext, in state: ServedState) throws(APIError) -> EnvironmentSnapshot {
        try environment(named: context.parameters.get("env") ?? "", in: state)
    }

    /// The environment of that name, from the given state.
    func environment(named name: String, in state: ServedState) throws(APIError) -> EnvironmentSnapshot {
        guard let environment = state.snapshot.environments[name] else { throw .unknownEnvironment(name) }
        return environment
    }

    // MARK: - Bodies

    /// The whole request body, refused with 413 past `limit` (by default `limits.requestBody`).
    func collectBody(_ request: Request, limit: Int? = nil) async throws -> ByteBuffer {
        let limit = limit ?? configuration.limits.requestBody
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.contentTooLarge(limit: limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.contentTooLarge(limit: limit)
        }
    }

    /// The body of an evaluation route, refused with 413 past `limits.contextBody`.
    func collectContextBody(_ request: Request) async throws -> ByteBuffer {
        try await collectBody(request, limit: configuration.limits.contextBody)
    }

    /// The request body parsed as a JSON object, or 400 naming what is wrong; 413 past `limit`.
    func jsonObjectBody(_ request: Request, limit: Int? = nil) async throws -> [String: JSONValue] {
        try Self.jsonObject(try await collectBody(request, limit: limit), maximumDepth: configuration.limits.jsonNesting)
    }

    /// A whole request body parsed as a JSON object nesting at most `maximumDepth` levels, or 400 naming what is
    /// wrong.
    static func jsonObject(_ body: ByteBuffer, maximumDepth: Int) throws(APIError) -> [String: JSONValue] {
        guard body.readableBytes > 0 else {
            throw APIError.badRequest("request body is empty: expected a JSON object")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body.readableBytesView, maximumDepth: maximumDepth)
        } catch {
            throw APIError.badRequest("request body is not valid JSON: \(error.description)")
        }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("request body must be a JSON object, not \(value.typeDescription)")
        }
        return fields
    }

    /// Refuses an evaluation context with more attributes than `limit` (`limits.contextAttributes`).
    static func checkAttributeCount(_ attributes: [String: JSONValue], limit: Int) throws(APIError) {
        guard attributes.count <= limit else {
            throw .badRequest("context has \(attributes.count) attributes; the limit is \(limit) (limits.contextAttributes)")
        }
    }

    // MARK: - Responses

    /// A JSON response with the given status and body.
    func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// A JSON response built with a ``JSONWriter``.
    func json(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ write: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        write(&writer)
        return json(writer.byteBuffer, status: status, headers: headers)
    }
}
