import Hummingbird
import Logging
import VoiceFlowCommon

/// Builds the signaling service: voice sessions of rooms (in Redis), TURN credentials, and the
/// sweep that ends sessions nobody holds.
public func buildApplication(configuration: SignalingConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "signaling", configuration: configuration.service, logger: logger)
    let verifier = try await TokenVerifier.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    let router = runtime.makeRouter()
    let rooms = VoiceRooms(
        store: VoiceStore(redis: runtime.redis),
        access: RoomAccess(client: runtime.postgres, logger: logger),
        events: EventPublisher(redis: runtime.redis, logger: logger),
        turn: TurnCredentials(settings: configuration.turn),
        metrics: SignalingMetrics(registry: runtime.metrics),
        maxParticipants: configuration.maxParticipants,
        logger: logger)
    VoiceController(rooms: rooms, verifier: verifier).addRoutes(to: router)
    router.answeringMethodNotAllowed()
    let sweeper = VoiceSweeper(
        rooms: rooms, redis: runtime.redis, period: configuration.sweepPeriod, gatewayTimeout: configuration.gatewayTimeout,
        presenceTTL: configuration.presenceTTL, logger: logger)
    return runtime.makeApplication(router: router, migrations: try Migration.bundled(), services: [sweeper])
}
