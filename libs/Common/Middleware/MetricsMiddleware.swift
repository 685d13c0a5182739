import Hummingbird
import Prometheus

/// Counts requests and times them per route template, method and status, for `/metrics`.
///
/// Routes are labelled by their template (`/api/v1/users/{id}`), never the raw path, so label
/// cardinality stays bounded; unmatched paths share the label `unmatched`.
public struct RequestMetricsMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let registry: PrometheusCollectorRegistry

    static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "http_requests", unitName: "total", helpText: "HTTP requests by method, route and status")
    }
    static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency")
    }

    static let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Creates the middleware over a registry.
    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            record(request, context: context, status: status, duration: ContinuousClock.now - start)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context: context, status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, duration: Duration) {
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        registry.makeCounter(
            descriptor: Self.requestsDescriptor,
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.durationDescriptor,
            labels: [("method", method), ("route", route), ("status", String(status))],
            buckets: Self.buckets
        ).record(duration)
    }
}
