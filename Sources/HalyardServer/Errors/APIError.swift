//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import NIOCore

/// An error that a route answers with: a 4xx (or 503) status and `{"error": "…"}`.
///
/// DESIGN §6 promises every error as `{"error": "…"}` and never a 5xx for bad input. Routes throw these; because the
/// type conforms to `HTTPResponseError`, Hummingbird and ``ErrorMiddleware`` turn it into the response itself. Like
/// Hummingbird's own errors it is a struct with factory functions, so new kinds never break callers.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status to answer with.
    public let status: HTTPResponse.Status
    /// What went wrong, shown to the client as `error`.
    public let message: String
    /// Extra response headers (`Allow`, `WWW-Authenticate`).
    public let headers: HTTPFields

    /// Creates an error with any status.
    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// The status code and the message, for logs.
    public var description: String { "\(status.code) \(message)" }

    /// The JSON error response, `{"error": message}` with ``status`` and ``headers``; Hummingbird calls it.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        makeResponse()
    }

    /// The JSON response for this error.
    func makeResponse() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONWriter.object("error", message)))
    }
}

extension APIError {
    /// 400: the request is malformed; `message` names what is wrong.
    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

    /// 401: credentials are missing or wrong.
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// 403: the route is switched off by configuration.
    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }

    /// 404: no such route, environment, flag or subscription.
    public static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }

    /// 405: the path exists but not with this method.
    public static func methodNotAllowed(_ method: HTTPRequest.Method, path: String, allowed: [HTTPRequest.Method]) -> APIError {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(.methodNotAllowed, "method \(method.rawValue) is not allowed on \(path); allowed: \(allow)", headers: [.allow: allow])
    }

    /// 409: the request conflicts with the resource's state (a static subscription cannot be deleted).
    public static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }

    /// 413: the body is over the configured limit.
    public static func contentTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "request body is larger than the limit of \(limit) bytes")
    }

    /// 503: no snapshot has been applied yet.
    public static var notReady: APIError { APIError(.serviceUnavailable, "no flags loaded yet: the first commit has not been applied") }

    /// 404 for an environment that the served commit does not have.
    static func unknownEnvironment(_ name: String) -> APIError { .notFound("unknown environment \"\(name)\"") }
}
