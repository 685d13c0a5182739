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
/// | `RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_IP` | 5 | wrong passwords for one account from one client IP before each further attempt from there waits (1 s, doubling, at most 5 minutes) |
/// | `RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT` | 100 | wrong passwords for one account from all addresses before attempts from addresses that never signed in to it wait (1 minute, doubling, at most 15 minutes) |
/// | `RATE_LIMIT_REGISTER_PER_IP` | 20 | registrations per hour per client IP |
/// | `RATE_LIMIT_PROFILE_UPDATES_PER_HOUR` | 30 | profile changes per user per hour |
/// | `RATE_LIMIT_EMAIL_CHANGES_PER_DAY` | 5 | requests to change one's e-mail address per user per day (each sends an e-mail) |
/// | `RATE_LIMIT_EMAIL_CHANGES_PER_IP` | 20 | requests to change an e-mail address per client IP per hour |
/// | `RATE_LIMIT_EMAIL_CONFIRM_PER_IP` | 30 | e-mail confirmation attempts per client IP per minute |
/// | `EMAIL_CHANGE_TTL_HOURS` | 24 | how long the token that confirms a new e-mail address works (1–168) |
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
    /// How long the token that confirms a new e-mail address works.
    public var emailChangeLifetime: Duration

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
            loginFailuresPerAccountAndAddress: FailureBackoffRule(
                name: "login-failures-account-ip",
                freeFailures: try environment.int("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_IP", default: 5, in: 1...1_000_000),
                firstDelay: .seconds(1), maximumDelay: .seconds(300), memory: .seconds(3600)),
            loginFailuresPerAccount: FailureBackoffRule(
                name: "login-failures-account",
                freeFailures: try environment.int("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", default: 100, in: 1...1_000_000),
                firstDelay: .seconds(60), maximumDelay: .seconds(900), memory: .seconds(3600)),
            registerPerIP: RateLimitRule(
                name: "register-ip", variable: "RATE_LIMIT_REGISTER_PER_IP", default: 20, period: .seconds(3600),
                environment: environment),
            registerPerEmail: RateLimitRule(name: "register-email", limit: 5, period: .seconds(3600)),
            refreshPerIP: RateLimitRule(
                name: "refresh-ip", variable: "RATE_LIMIT_REFRESH_PER_IP", default: 120, period: .seconds(60),
                environment: environment),
            profileUpdatesPerUser: RateLimitRule(
                name: "profile-update", variable: "RATE_LIMIT_PROFILE_UPDATES_PER_HOUR", default: 30, period: .seconds(3600),
                environment: environment),
            emailChangesPerUser: RateLimitRule(
                name: "email-change-user", variable: "RATE_LIMIT_EMAIL_CHANGES_PER_DAY", default: 5, period: .seconds(86_400),
                environment: environment),
            emailChangesPerIP: RateLimitRule(
                name: "email-change-ip", variable: "RATE_LIMIT_EMAIL_CHANGES_PER_IP", default: 20, period: .seconds(3600),
                environment: environment),
            emailConfirmationsPerIP: RateLimitRule(
                name: "email-confirm-ip", variable: "RATE_LIMIT_EMAIL_CONFIRM_PER_IP", default: 30, period: .seconds(60),
                environment: environment))
        self.emailChangeLifetime = .seconds(3600 * (try environment.int("EMAIL_CHANGE_TTL_HOURS", default: 24, in: 1...168)))
    }
}

/// The rate limits auth applies.
///
/// Sign-in counts attempts per client address, and *failures* per account: per (account, address)
/// first, so one address guessing someone's password is slowed down without touching the owner's
/// sign-ins from elsewhere; and per account across all addresses, which holds back only addresses
/// that never signed in to the account successfully (OWASP ASVS 2.2.1: no more than about 100
/// failures an hour on an account, and no lock-out of its owner).
public struct AuthRateLimits: Sendable {
    /// Sign-in attempts per client address.
    public var loginPerIP: RateLimitRule
    /// Failed sign-ins per account and client address.
    public var loginFailuresPerAccountAndAddress: FailureBackoffRule
    /// Failed sign-ins per account, from every address.
    public var loginFailuresPerAccount: FailureBackoffRule
    /// The pass an address earns for an account by signing in to it: it waives ``loginFailuresPerAccount``.
    public var trustedAddressPass = "login-trusted-address"
    /// How long that pass lasts after the last successful sign-in.
    public var trustedAddressLifetime: Duration = .seconds(30 * 24 * 3600)
    /// Registrations (and guest sign-ins) per client address.
    public var registerPerIP: RateLimitRule
    /// Registrations per e-mail address.
    public var registerPerEmail: RateLimitRule
    /// Token refreshes per client address.
    public var refreshPerIP: RateLimitRule
    /// Profile changes per user.
    public var profileUpdatesPerUser: RateLimitRule
    /// Requests to change one's e-mail address per user: each sends an e-mail.
    public var emailChangesPerUser: RateLimitRule
    /// Requests to change an e-mail address per client address (across the accounts it uses).
    public var emailChangesPerIP: RateLimitRule
    /// E-mail confirmation attempts per client address.
    public var emailConfirmationsPerIP: RateLimitRule
}
