import Hummingbird
import Logging
import VoiceFlowCommon

/// Builds the messages service: sending, history with per-room sequence numbers, edits, deletes.
public func buildApplication(configuration: MessagesConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "messages", configuration: configuration.service, logger: logger)
    let verifier = try await TokenVerifier.load(configuration.service.tokenKeys, mode: configuration.service.mode)
    // Uploads may exceed the JSON body limit; they enforce their own limit while streaming.
    let router = runtime.makeRouter(bodyLimitOverrides: [("/api/v1/files", configuration.files.maximumBytes + 64 * 1024)])
    MessageController(
        messages: PostgresMessageRepository(client: runtime.postgres, logger: logger),
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
    return runtime.makeApplication(router: router, migrations: try Migration.bundled())
}

/// FileFlow when it is configured, else the local disk.
func makeFileStorage(_ settings: FileSettings) throws -> any FileStorage {
    if let fileFlow = settings.fileFlow {
        return try FileFlowStorage(settings: fileFlow, incomingDirectory: settings.storageDirectory + "/incoming")
    }
    return try LocalDiskStorage(directory: settings.storageDirectory)
}
