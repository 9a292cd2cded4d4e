//===----------------------------------------------------------------------===//
//
// This source file is part of the Halyard open source project
//
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import Prometheus
import Synchronization

/// Counts requests as `halyard_http_requests_total{route, status}`.
///
/// The `route` label is the route pattern (`/v1/environments/{env}/flags`), never the raw path, so the number of time
/// series stays bounded whatever clients ask for; unmatched paths share the label `unmatched`. Counters are created
/// once per (route, status) and cached, so a request costs one short lock and one atomic add.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let counters: RequestCounters

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            counters.increment(route: Self.route(of: context), status: status.code)
            throw error
        }
        counters.increment(route: Self.route(of: context), status: response.status.code)
        return response
    }

    private static func route(of context: Context) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return "unmatched" }
        return path
    }
}

/// The cache of request counters behind ``RequestMetricsMiddleware``.
final class RequestCounters: Sendable {
    private struct Key: Hashable {
        let route: String
        let status: Int
    }

    private static var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "halyard_http_requests",
            unitName: "total",
            helpText: "HTTP requests answered, by route pattern and status code."
        )
    }

    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[Key: Prometheus.Counter]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func increment(route: String, status: Int) {
        let key = Key(route: route, status: status)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.descriptor, labels: [("route", route), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
