import NIOCore
import VoiceFlowCommon

/// Settings of the auth service: the shared ones plus password, token and rate-limit settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3001 | listen port |
/// | `BCRYPT_COST` | 12 | bcrypt work factor (4–16) |
/// | `BCRYPT_THREADS` | number of cores | password hashes computed at once (1–256) |
/// | `BCRYPT_QUEUE` | 4 × `BCRYPT_THREADS` | hashes that may wait for a thread; beyond that, 503 with `Retry-After` (0–10000) |
/// | `JWT_ACCESS_TTL_SECONDS` | 900 | access token lifetime |
/// | `JWT_REFRESH_TTL_SECONDS` | 2592000 | refresh token lifetime (30 days) |
/// | `RATE_LIMIT_LOGIN_PER_IP` | 30 | logins per minute per client IP |
/// | `RATE_LIMIT_LOGIN_PER_ACCOUNT` | 10 | logins per 15 minutes per e-mail |
/// | `RATE_LIMIT_REGISTER_PER_IP` | 20 | registrations per hour per client IP |
/// | `RATE_LIMIT_REFRESH_PER_IP` | 120 | token refreshes (and guest sign-ins) per minute per client IP |
public struct AuthConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration
    /// bcrypt cost.
    public var bcryptCost: Int
    /// Threads that compute password hashes.
    public var bcryptThreads: Int
    /// Password hashes that may wait for a thread before requests are refused with 503.
    public var bcryptQueueLength: Int
    /// Access token lifetime.
    public var accessTokenLifetime: Duration
    /// Refresh token lifetime.
    public var refreshTokenLifetime: Duration
    /// Limits on sign-in and sign-up.
    public var rateLimits: AuthRateLimits

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 3001)
        self.bcryptCost = try environment.int("BCRYPT_COST", default: 12, in: 4...16)
        self.bcryptThreads = try environment.int("BCRYPT_THREADS", default: max(1, System.coreCount), in: 1...256)
        self.bcryptQueueLength = try environment.int("BCRYPT_QUEUE", default: 4 * bcryptThreads, in: 0...10_000)
        self.accessTokenLifetime = .seconds(try environment.int("JWT_ACCESS_TTL_SECONDS", default: 900, in: 30...86_400))
        self.refreshTokenLifetime = .seconds(
            try environment.int("JWT_REFRESH_TTL_SECONDS", default: 2_592_000, in: 60...31_536_000))
        self.rateLimits = try AuthRateLimits(
            loginPerIP: RateLimitRule(
                name: "login-ip", variable: "RATE_LIMIT_LOGIN_PER_IP", default: 30, period: .seconds(60), environment: environment),
            loginPerAccount: RateLimitRule(
                name: "login-account", variable: "RATE_LIMIT_LOGIN_PER_ACCOUNT", default: 10, period: .seconds(900),
                environment: environment),
            registerPerIP: RateLimitRule(
                name: "register-ip", variable: "RATE_LIMIT_REGISTER_PER_IP", default: 20, period: .seconds(3600),
                environment: environment),
            registerPerEmail: RateLimitRule(name: "register-email", limit: 5, period: .seconds(3600)),
            refreshPerIP: RateLimitRule(
                name: "refresh-ip", variable: "RATE_LIMIT_REFRESH_PER_IP", default: 120, period: .seconds(60),
                environment: environment))
    }
}

/// The rate limits auth applies.
public struct AuthRateLimits: Sendable {
    public var loginPerIP: RateLimitRule
    public var loginPerAccount: RateLimitRule
    public var registerPerIP: RateLimitRule
    public var registerPerEmail: RateLimitRule
    public var refreshPerIP: RateLimitRule
}
