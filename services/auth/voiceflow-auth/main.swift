import AuthService
import Hummingbird
import Logging
import VoiceFlowCommon

/// `voiceflow-auth`: accounts, tokens and profiles. Configuration comes from the environment.
await ServiceStart.run("voiceflow-auth") {
    let configuration = try AuthConfiguration()
    let level = Logger.Level(configValue: configuration.service.logLevel)
    LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
    let logger = Logger(label: "voiceflow-auth")
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
