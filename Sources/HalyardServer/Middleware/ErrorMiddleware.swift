//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turns every error a route throws into a JSON response, so nothing reaches the client as a bare 500 or an empty 404.
///
/// ``APIError`` answers for itself. Hummingbird's own errors (the router's 404, a body over the limit) keep their
/// status and get `{"error": …}`. Anything else is a bug: it is logged and answered with a 500 that reveals nothing.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let response = response(for: error, request: request)
            return request.method == .head ? response.createHeadResponse() : response
        }
    }

    private func response(for error: any Error, request: Request) -> Response {
        switch error {
        case let error as APIError:
            return error.makeResponse()
        case let error as HTTPError:
            if error.status == .notFound, error.body == nil {
                return APIError(.notFound, "no route for \(request.method.rawValue) \(request.uri.path)").makeResponse()
            }
            return APIError(error.status, error.body ?? error.status.reasonPhrase, headers: error.headers).makeResponse()
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "request body is too large").makeResponse()
        case let error as any HTTPResponseError:
            return APIError(error.status, error.status.reasonPhrase).makeResponse()
        default:
            logger.error(
                "unexpected error answering a request",
                metadata: ["method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "error": "\(error)"]
            )
            return APIError(.internalServerError, "internal error").makeResponse()
        }
    }
}
