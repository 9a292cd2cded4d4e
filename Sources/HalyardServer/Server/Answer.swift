//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import NIOCore

/// A complete answer to a request, in plain values: what a hot route computes before it becomes a `Response`.
///
/// The hot read routes (`/flags`, `/evaluate`, OFREP evaluation) compute an answer from the request's headers and
/// whole body. The router wraps it in a Hummingbird `Response` (``response``); the ``FastPathHandler`` writes it to the
/// connection directly. Both write the same status, headers and bytes.
struct Answer {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    /// The body; `nil` for none (a 304).
    var body: ByteBuffer?

    /// A JSON answer: `Content-Type: application/json` after the given headers.
    static func json(_ body: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Answer {
        var headers = headers
        headers[.contentType] = "application/json"
        return Answer(status: status, headers: headers, body: body)
    }

    /// The answer as a Hummingbird response, with the `Content-Length` that Hummingbird adds.
    var response: Response {
        guard let body else { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}
