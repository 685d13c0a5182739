import AuthService
import Hummingbird
import Logging
import VoiceFlowCommon

/// `voiceflow-auth`: accounts, tokens and profiles. Configuration comes from the environment.
await ServiceStart.run("voiceflow-auth", configuration: { try AuthConfiguration() }, logLevel: \.service.logLevel) { configuration, logger in
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
