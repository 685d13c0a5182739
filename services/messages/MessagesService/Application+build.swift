import Hummingbird
import Logging
import VoiceFlowCommon

/// Builds the messages service: sending, history with per-room sequence numbers, edits, deletes.
public func buildApplication(configuration: MessagesConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "messages", configuration: configuration.service, logger: logger)
    let verifier = try await TokenVerifier.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    let router = runtime.makeRouter()
    MessageController(
        messages: PostgresMessageRepository(client: runtime.postgres, logger: logger),
        events: EventPublisher(redis: runtime.redis, logger: logger),
        verifier: verifier,
        limiter: runtime.rateLimiter,
        sendLimit: configuration.sendLimit
    ).addRoutes(to: router)
    return runtime.makeApplication(router: router, migrations: try Migration.bundled())
}
