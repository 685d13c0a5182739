import Hummingbird
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import VoiceFlowRedis

/// What every service process holds: configuration, logger, the Postgres pool, the Redis client and
/// the metrics registry; and how to turn them into a running application.
///
/// ```swift
/// let runtime = ServiceRuntime(name: "auth", configuration: configuration, logger: logger)
/// let router = runtime.makeRouter()
/// // ... add the service's routes ...
/// try await runtime.makeApplication(router: router).runService()
/// ```
public struct ServiceRuntime: Sendable {
    /// The service's short name (`auth`), used as the server name and in logs.
    public let name: String
    /// Shared settings.
    public let configuration: ServiceConfiguration
    /// The root logger.
    public let logger: Logger
    /// The pooled PostgreSQL client; a `Service` run by the application.
    public let postgres: PostgresClient
    /// The pooled Redis client; a `Service` run by the application.
    public let redis: RedisClient
    /// This process's metrics.
    public let metrics: PrometheusCollectorRegistry

    /// Creates the clients (they connect once the application runs).
    public init(name: String, configuration: ServiceConfiguration, logger: Logger) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.postgres = PostgresClient(
            configuration: configuration.database.clientConfiguration,
            backgroundLogger: logger)
        self.redis = RedisClient(configuration: configuration.redis, logger: logger)
        self.metrics = PrometheusCollectorRegistry()
    }

    /// A router with the standard middleware stack and `/health`, `/ready`, `/metrics`.
    ///
    /// Order, outermost first: metrics, request id, security headers, CORS, error mapping, client
    /// address, body limit. Errors are rendered inside the header middlewares, so error responses
    /// carry the same headers as successful ones.
    public func makeRouter(
        bodyLimitOverrides: [(pathPrefix: String, limit: Int)] = [], readinessChecks: [ReadinessCheck] = [],
        contentSecurityPolicy: String = SecurityHeadersMiddleware.apiContentSecurityPolicy
    ) -> Router<VoiceFlowRequestContext> {
        let router = Router(context: VoiceFlowRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(registry: metrics))
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: SecurityHeadersMiddleware(hstsEnabled: configuration.hstsEnabled, contentSecurityPolicy: contentSecurityPolicy))
        router.add(middleware: CORSPolicyMiddleware(allowedOrigins: configuration.allowedOrigins))
        router.add(middleware: ErrorMappingMiddleware())
        router.add(middleware: ClientAddressMiddleware(trustProxy: configuration.trustProxy))
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes, overrides: bodyLimitOverrides))
        let postgres = self.postgres
        let redis = self.redis
        let logger = self.logger
        HealthRoutes.add(
            to: router,
            checks: [
                ReadinessCheck(name: "postgres") {
                    try await postgres.query("SELECT 1", logger: logger)
                },
                ReadinessCheck(name: "redis") {
                    try await redis.ping()
                },
            ] + readinessChecks,
            metrics: metrics)
        return router
    }

    /// A rate limiter over this process's Redis client.
    public var rateLimiter: RateLimiter {
        RateLimiter(redis: redis, enabled: configuration.rateLimitsEnabled, logger: logger)
    }

    /// The application: Postgres and Redis run as services beside the HTTP server; pending migrations
    /// are applied (retrying while PostgreSQL is still starting) before the server accepts requests.
    public func makeApplication(
        router: Router<VoiceFlowRequestContext>,
        migrations: [Migration],
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var application = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "voiceflow-\(name)"),
            services: [postgres, redis] + services,
            onServerRunning: onServerRunning,
            logger: logger)
        let runner = MigrationRunner(client: postgres, logger: logger)
        let logger = self.logger
        application.beforeServerStarts {
            try await Self.retrying(logger: logger, attempts: 30) {
                try await runner.run(migrations)
            }
        }
        return application
    }

    /// Runs `operation` until it succeeds, waiting one second between attempts.
    static func retrying(logger: Logger, attempts: Int, _ operation: @Sendable () async throws -> Void) async throws {
        for attempt in 1...attempts {
            do {
                return try await operation()
            } catch {
                guard attempt < attempts else { throw error }
                logger.warning(
                    "Database not ready, retrying",
                    metadata: ["attempt": "\(attempt)", "error.type": "\(type(of: error))", "error": "\(String(reflecting: error))"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
