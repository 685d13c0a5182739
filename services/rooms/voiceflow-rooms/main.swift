import Hummingbird
import Logging
import RoomsService
import VoiceFlowCommon

/// `voiceflow-rooms`: rooms, join codes, membership and roles. Configuration comes from the environment.
await ServiceStart.run("voiceflow-rooms") {
    let configuration = try RoomsConfiguration()
    let level = Logger.Level(configValue: configuration.service.logLevel)
    LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
    let logger = Logger(label: "voiceflow-rooms")
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
