import Foundation
import VoiceFlowRedis

/// Settings every VoiceFlow service shares, read from the environment with safe local defaults.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `APP_ENV` / `NODE_ENV` | development | `production` refuses default secrets |
/// | `HOST`, `PORT` | 127.0.0.1, per service | listen address |
/// | `DATABASE_URL` | postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow | PostgreSQL; `?sslmode=disable\|prefer\|require\|verify-ca\|verify-full&sslrootcert=/ca.pem` for TLS (see ``DatabaseConfiguration``) |
/// | `DATABASE_POOL_SIZE` | 10 | PostgreSQL connections per process |
/// | `REDIS_URL` | redis://127.0.0.1:6379 | Redis; `rediss://...?ssl_ca_certs=/ca.pem` for TLS (see ``RedisConfiguration``) |
/// | `FRONTEND_URL`, `SOCKET_CORS_ORIGIN` | http://127.0.0.1:8080 | allowed CORS origins (comma lists) |
/// | `LOG_LEVEL` | info | trace, debug, info, notice, warning, error, critical |
/// | `MAX_BODY_BYTES` | 1048576 | largest JSON body accepted (413 beyond) |
/// | `TRUST_PROXY` | true | take the client IP from `X-Forwarded-For` (set by the edge) |
/// | `HSTS_ENABLED` | false | send `Strict-Transport-Security` (when served over TLS) |
/// | `RATE_LIMITS_ENABLED` | true | turn every rate limit on or off |
/// | `JWT_KEY_FILE`, `JWT_PUBLIC_KEY`, `AUTH_URL` | see ``TokenKeyConfiguration`` | token keys |
///
/// In production the service refuses to start with the local database password, a missing
/// `REDIS_URL`, or any secret (`DATABASE_URL` and `REDIS_URL` passwords, `SMTP_PASSWORD`,
/// `FILEFLOW_API_SECRET`, `JWT_PRIVATE_KEY`) that is still a placeholder of `deploy/.env.example`
/// or an obvious default (``PlaceholderSecret``).
///
/// Never print a whole configuration: it holds credentials.
public struct ServiceConfiguration: Sendable {
    /// Development, test or production.
    public var mode: DeploymentMode
    /// Listen host.
    public var host: String
    /// Listen port.
    public var port: Int
    /// PostgreSQL connection settings.
    public var database: DatabaseConfiguration
    /// Redis connection settings.
    public var redis: RedisConfiguration
    /// Origins allowed by CORS.
    public var allowedOrigins: [String]
    /// Minimum log level.
    public var logLevel: String
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Whether `X-Forwarded-For` is trusted for the client address.
    public var trustProxy: Bool
    /// Whether to send HSTS.
    public var hstsEnabled: Bool
    /// Whether rate limits apply.
    public var rateLimitsEnabled: Bool
    /// Where token keys come from.
    public var tokenKeys: TokenKeyConfiguration

    /// Reads the shared settings; `defaultPort` is the service's own port.
    public init(environment: EnvironmentReader = EnvironmentReader(), defaultPort: Int) throws {
        let mode = try DeploymentMode(environment: environment)
        self.mode = mode
        self.host = environment.string("HOST", default: "127.0.0.1")
        self.port = try environment.int("PORT", default: defaultPort, in: 0...65535)
        self.database = try DatabaseConfiguration(
            url: environment.string("DATABASE_URL", default: DatabaseConfiguration.localURL),
            maximumConnections: try environment.int("DATABASE_POOL_SIZE", default: 10, in: 1...500))
        do {
            self.redis = try RedisConfiguration(url: environment.string("REDIS_URL", default: "redis://127.0.0.1:6379"))
        } catch {
            let reason = if case .invalidURL(let why) = error { why } else { "not a redis:// or rediss:// URL" }
            throw ConfigurationError.invalidValue(key: "REDIS_URL", reason: reason)
        }
        let origins = environment.list("FRONTEND_URL") + environment.list("SOCKET_CORS_ORIGIN")
        self.allowedOrigins = origins.isEmpty ? ["http://127.0.0.1:8080", "http://localhost:8080"] : origins
        self.logLevel = environment.string("LOG_LEVEL", default: "info")
        self.maxBodyBytes = try environment.int("MAX_BODY_BYTES", default: 1_048_576, in: 1024...(64 << 20))
        self.trustProxy = try environment.bool("TRUST_PROXY", default: true)
        self.hstsEnabled = try environment.bool("HSTS_ENABLED", default: mode == .production)
        self.rateLimitsEnabled = try environment.bool("RATE_LIMITS_ENABLED", default: true)
        self.tokenKeys = TokenKeyConfiguration(environment: environment)

        if mode == .production {
            if database.password == nil || database.password == DatabaseConfiguration.localPassword {
                throw ConfigurationError.insecureDefaultInProduction(key: "DATABASE_URL")
            }
            if environment.string("REDIS_URL") == nil {
                throw ConfigurationError.insecureDefaultInProduction(key: "REDIS_URL")
            }
            try Self.refusePlaceholders(
                [
                    ("DATABASE_URL", database.password), ("REDIS_URL", redis.password),
                    ("SMTP_PASSWORD", environment.string("SMTP_PASSWORD")), ("FILEFLOW_API_SECRET", environment.string("FILEFLOW_API_SECRET")),
                    ("FILEFLOW_API_KEY", environment.string("FILEFLOW_API_KEY")), ("JWT_PRIVATE_KEY", environment.string("JWT_PRIVATE_KEY")),
                ])
        }
    }

    /// Throws for the first secret that is set but still a placeholder.
    static func refusePlaceholders(_ secrets: [(key: String, value: String?)]) throws(ConfigurationError) {
        for (key, value) in secrets {
            if let value, PlaceholderSecret.isPlaceholder(value) { throw .placeholderSecretInProduction(key: key) }
        }
    }
}
