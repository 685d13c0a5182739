import Hummingbird
import Logging
import VoiceFlowJobQueue
import VoiceFlowCommon

/// Builds the auth service: accounts, tokens and profiles.
///
/// Tests call this with their own configuration and run the result in-process; `voiceflow-auth` runs it
/// as a process.
public func buildApplication(configuration: AuthConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await buildApplication(
        configuration: configuration, logger: logger,
        bcryptPool: BcryptPool(threads: configuration.bcryptThreads, queueLength: configuration.bcryptQueueLength))
}

/// The auth service hashing passwords on a given pool (tests fill it).
func buildApplication(
    configuration: AuthConfiguration, logger: Logger, bcryptPool: BcryptPool
) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "auth", configuration: configuration.service, logger: logger)
    let signingKey = try SigningKey.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    let issuer = await TokenIssuer(
        signingKey: signingKey,
        accessTokenLifetime: configuration.accessTokenLifetime,
        refreshTokenLifetime: configuration.refreshTokenLifetime)
    let verifier = TokenVerifier(keys: issuer.keys)
    let users = PostgresUserRepository(client: runtime.postgres, logger: logger)
    let emailQueue = JobQueue(name: PlatformJobs.emailQueue, redis: runtime.redis)
    let emailChanges = EmailChanges(
        users: users, changes: PostgresEmailChangeRepository(client: runtime.postgres, logger: logger), queue: emailQueue,
        lifetime: configuration.emailChangeLifetime)

    let router = runtime.makeRouter()
    AuthController(
        users: users,
        refreshTokens: PostgresRefreshTokenRepository(client: runtime.postgres, logger: logger),
        hasher: PasswordHasher(cost: configuration.bcryptCost, pool: bcryptPool),
        issuer: issuer,
        verifier: verifier,
        limiter: runtime.rateLimiter,
        limits: configuration.rateLimits,
        welcomeEmails: WelcomeEmails(queue: emailQueue),
        endedSessions: LoginSessionAnnouncer(redis: runtime.redis),
        emailChanges: emailChanges,
        refreshCookie: RefreshCookie(
            secure: configuration.service.mode == .production, lifetime: configuration.refreshTokenLifetime,
            allowedOrigins: Set(configuration.service.allowedOrigins))
    ).addRoutes(to: router)
    UserController(
        users: users, verifier: verifier, limiter: runtime.rateLimiter, limits: configuration.rateLimits,
        emailChanges: emailChanges
    ).addRoutes(to: router)

    router.answeringMethodNotAllowed()
    return runtime.makeApplication(router: router, migrations: try Migration.bundled(), services: [bcryptPool])
}
