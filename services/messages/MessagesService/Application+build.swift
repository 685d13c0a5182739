import Hummingbird
import Logging
import VoiceFlowCommon
import VoiceFlowRedis

/// Builds the messages service: sending, history with per-room sequence numbers, edits, deletes.
public func buildApplication(configuration: MessagesConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await buildApplication(
        configuration: configuration, logger: logger,
        accessCache: RoomAccessCache(timeToLive: configuration.accessCacheTTL, capacity: configuration.accessCacheCapacity))
}

/// The messages service with a given room access cache (tests observe it).
func buildApplication(
    configuration: MessagesConfiguration, logger: Logger, accessCache cache: RoomAccessCache
) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "messages", configuration: configuration.service, logger: logger)
    let verifier = try await TokenVerifier.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    // Uploads may exceed the JSON body limit; they count every byte against their own while streaming.
    let router = runtime.makeRouter(bodyLimitOverrides: [("/api/v1/files", configuration.files.maximumBodyBytes)])
    let messages = PostgresMessageRepository(client: runtime.postgres, logger: logger)
    let metrics = MessageMetrics(registry: runtime.metrics)
    // Room access answers are cached only while the room events that invalidate them arrive.
    let subscriber = RedisSubscriber(configuration: configuration.service.redis, logger: logger)
    let invalidator = RoomAccessInvalidator(subscriber: subscriber, cache: cache, logger: logger)
    MessageController(
        messages: messages,
        access: RoomAccessLookup(repository: messages, cache: cache, metrics: metrics),
        metrics: metrics,
        events: EventPublisher(redis: runtime.redis, logger: logger),
        verifier: verifier,
        limiter: runtime.rateLimiter,
        sendLimit: configuration.sendLimit
    ).addRoutes(to: router)
    FileController(
        files: PostgresFileRepository(client: runtime.postgres, logger: logger),
        storage: try makeFileStorage(configuration.files),
        settings: configuration.files,
        verifier: verifier,
        limiter: runtime.rateLimiter,
        uploadLimit: configuration.uploadLimit
    ).addRoutes(to: router)
    router.answeringMethodNotAllowed()
    return runtime.makeApplication(router: router, migrations: try Migration.bundled(), services: [subscriber, invalidator])
}

/// FileFlow when it is configured, else the local disk.
func makeFileStorage(_ settings: FileSettings) throws -> any FileStorage {
    if let fileFlow = settings.fileFlow {
        return try FileFlowStorage(settings: fileFlow, incomingDirectory: settings.storageDirectory + "/incoming")
    }
    return try LocalDiskStorage(directory: settings.storageDirectory)
}
