import Hummingbird
import Logging
import VoiceFlowCommon

/// Builds the rooms service: rooms, join codes, membership and roles.
public func buildApplication(configuration: RoomsConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "rooms", configuration: configuration.service, logger: logger)
    let verifier = try await TokenVerifier.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    let router = runtime.makeRouter()
    RoomController(
        rooms: PostgresRoomRepository(client: runtime.postgres, logger: logger),
        events: EventPublisher(redis: runtime.redis, logger: logger),
        verifier: verifier,
        limiter: runtime.rateLimiter,
        limits: configuration.limits
    ).addRoutes(to: router)
    router.answeringMethodNotAllowed()
    return runtime.makeApplication(router: router, migrations: try Migration.bundled())
}
