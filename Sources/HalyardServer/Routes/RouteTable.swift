//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird

/// Registers routes on a `Router` and remembers which methods each path has, so a wrong method gets 405 with `Allow`.
///
/// Hummingbird's router answers a known path with an unknown method as 404. DESIGN §6 wants 405, so once every route
/// is added, ``finish()`` registers a responder for each standard method that a path lacks. Route groups (the flag
/// routes, the admin routes, and later OFREP and `/openapi.yaml`) each add themselves through one of these.
struct RouteTable<Context: RequestContext> {
    /// A route handler: the same shape as a Hummingbird closure route, always answering a full `Response`.
    typealias Handler = @Sendable (Request, Context) async throws -> Response

    private let router: Router<Context>
    private var methodsByPath: [(path: String, methods: [HTTPRequest.Method])] = []

    init(router: Router<Context>) {
        self.router = router
    }

    /// Adds a route. `path` uses Hummingbird's syntax with `{name}` captures.
    mutating func on(_ method: HTTPRequest.Method, _ path: String, use handler: @escaping Handler) {
        router.on(RouterPath(path), method: method, use: handler)
        if let index = methodsByPath.firstIndex(where: { $0.path == path }) {
            methodsByPath[index].methods.append(method)
        } else {
            methodsByPath.append((path, [method]))
        }
    }

    /// Adds a `GET` route and its `HEAD` twin, which answers the same status and headers without the body (a streaming
    /// body is never started).
    mutating func get(_ path: String, use handler: @escaping Handler) {
        on(.get, path, use: handler)
        on(.head, path) { request, context in
            try await handler(request, context).createHeadResponse()
        }
    }

    mutating func post(_ path: String, use handler: @escaping Handler) { on(.post, path, use: handler) }
    mutating func delete(_ path: String, use handler: @escaping Handler) { on(.delete, path, use: handler) }

    /// Registers the 405 responders. Call it once, after the last route.
    func finish() {
        let standardMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for (path, methods) in methodsByPath {
            let allowed = methods
            for method in standardMethods where !methods.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw APIError.methodNotAllowed(request.method, path: request.uri.path, allowed: allowed)
                }
            }
        }
    }
}
