//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardRules
import Hummingbird

/// An error answer of the OFREP routes: `{key?, errorCode, errorDetails}` with a 4xx (or 503) status.
///
/// OFREP providers read `errorCode` and `errorDetails` (`shared/specs/ofrep-openapi.yaml`), not Halyard's usual
/// `{"error": …}`, so the OFREP routes answer every error in that shape. Route helpers shared with the rest of the API
/// throw ``APIError``; ``init(_:key:)`` translates those. Routes return ``makeResponse()`` themselves rather than
/// throwing, because ``ErrorMiddleware`` would rewrite any other error type into `{"error": …}`.
public struct OFREPError: Error, Sendable, CustomStringConvertible {
    /// The OpenFeature error codes that Halyard answers with.
    struct Code: Sendable, Equatable {
        let rawValue: String

        /// The flag key does not exist in the environment (or the environment does not exist).
        static let flagNotFound = Code(rawValue: "FLAG_NOT_FOUND")
        /// The body is not a JSON object.
        static let parseError = Code(rawValue: "PARSE_ERROR")
        /// `context` (or its `targetingKey`) has the wrong type.
        static let invalidContext = Code(rawValue: "INVALID_CONTEXT")
        /// No snapshot has been applied yet.
        static let providerNotReady = Code(rawValue: "PROVIDER_NOT_READY")
        /// Anything else: credentials, limits.
        static let general = Code(rawValue: "GENERAL")
    }

    /// The HTTP status to answer with.
    let status: HTTPResponse.Status
    /// The OpenFeature error code.
    let code: Code
    /// The flag key, on the single-flag route.
    var key: String?
    /// What went wrong, for people.
    let details: String
    /// Extra response headers (`WWW-Authenticate`).
    var headers: HTTPFields

    init(status: HTTPResponse.Status, code: Code, key: String? = nil, details: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.key = key
        self.details = details
        self.headers = headers
    }

    /// The status, error code and details, for logs.
    public var description: String { "\(status.code) \(code.rawValue): \(details)" }

    /// 400 `PARSE_ERROR`: the body is not JSON, or not an object.
    static func parseError(_ details: String) -> OFREPError { OFREPError(status: .badRequest, code: .parseError, details: details) }

    /// 400 `INVALID_CONTEXT`: the context has the wrong shape.
    static func invalidContext(_ details: String) -> OFREPError {
        OFREPError(status: .badRequest, code: .invalidContext, details: details)
    }

    /// 404 `FLAG_NOT_FOUND` for a key the environment lacks.
    static func flagNotFound(_ key: String, environment: String) -> OFREPError {
        OFREPError(status: .notFound, code: .flagNotFound, key: key, details: "flag \"\(key)\" not found in environment \"\(environment)\"")
    }

    /// Translates an error of the shared route helpers (credentials, readiness, unknown environment, body limit).
    ///
    /// An unknown environment is `FLAG_NOT_FOUND` on the single-flag route (the flag is not found where the provider
    /// looks) and `GENERAL` on the others.
    init(_ error: APIError, key: String? = nil) {
        let code: Code =
            switch error.status {
            case .serviceUnavailable: .providerNotReady
            case .notFound where key != nil: .flagNotFound
            default: .general
            }
        self.init(status: error.status, code: code, key: key, details: error.message, headers: error.headers)
    }

    /// Returns the error with the flag key it concerns.
    func with(key: String) -> OFREPError {
        var copy = self
        copy.key = key
        return copy
    }

    /// The JSON response: `{"key"?, "errorCode", "errorDetails"}`.
    func makeResponse() -> Response {
        var json = JSONWriter(capacity: 64 + details.utf8.count + (key?.utf8.count ?? 0))
        json.objectStart()
        if let key {
            json.key("key")
            json.string(key)
        }
        json.key("errorCode")
        json.string(code.rawValue)
        json.key("errorDetails")
        json.string(details)
        json.objectEnd()
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: json.byteBuffer))
    }
}
