//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import HalyardClient
import Hummingbird
import NIOCore

extension RouterMethods {
    /// Adds the route that receives Halyard's refresh calls for `client` (DESIGN §11, webhook mode).
    ///
    /// The route reads the raw body (up to `maximumBodyBytes`, 1 MiB by default; larger gets `413`), checks the
    /// Standard Webhooks headers with ``HalyardClient/handleRefreshCall(_:)`` and answers `204` once an authentic call
    /// has been acted on (or was a duplicate), `401` for a bad signature or timestamp and `400` for a body that is
    /// not a Halyard change, with `{"error": …}`. A refused call changes nothing.
    ///
    /// ```swift
    /// let router = Router()
    /// router.addHalyardRefreshRoute("/hooks/flags", client: client)
    /// ```
    ///
    /// - Parameters:
    ///   - path: The route's path; the URL subscribed in Halyard must point to it.
    ///   - client: The client to refresh.
    ///   - maximumBodyBytes: The largest body read.
    /// - Returns: The router, for chaining.
    @discardableResult
    public func addHalyardRefreshRoute(_ path: RouterPath = "/hooks/flags", client: HalyardClient, maximumBodyBytes: Int = 1 << 20) -> Self {
        post(path) { request, _ -> Response in
            let body = try await request.body.collect(upTo: maximumBodyBytes)
            let call = RefreshCall(
                id: request.headers[HalyardRefreshHeaders.id],
                timestamp: request.headers[HalyardRefreshHeaders.timestamp],
                signature: request.headers[HalyardRefreshHeaders.signature],
                body: Array(buffer: body)
            )
            let outcome = await client.handleRefreshCall(call)
            switch outcome {
            case .accepted, .duplicate:
                return Response(status: .noContent)
            case .unauthorized(let result):
                return Self.errorResponse(.unauthorized, "the refresh call is not authentic: \(result.rawValue)")
            case .badRequest(let message):
                return Self.errorResponse(.badRequest, message)
            }
        }
    }

    private static func errorResponse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var escaped = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":""# + escaped + #""}"#))
        )
    }
}

/// The Standard Webhooks header names.
enum HalyardRefreshHeaders {
    static let id = HTTPField.Name("webhook-id")!
    static let timestamp = HTTPField.Name("webhook-timestamp")!
    static let signature = HTTPField.Name("webhook-signature")!
}
