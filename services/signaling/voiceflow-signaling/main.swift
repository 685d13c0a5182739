import Hummingbird
import Logging
import SignalingService
import VoiceFlowCommon

/// `voiceflow-signaling`: voice sessions of rooms, TURN credentials. Configuration comes from the environment.
await ServiceStart.run("voiceflow-signaling") {
    let configuration = try SignalingConfiguration()
    let level = Logger.Level(configValue: configuration.service.logLevel)
    LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
    let logger = Logger(label: "voiceflow-signaling")
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
