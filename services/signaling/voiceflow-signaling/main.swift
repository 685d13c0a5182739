import Hummingbird
import Logging
import SignalingService
import VoiceFlowCommon

/// `voiceflow-signaling`: voice sessions of rooms, TURN credentials. Configuration comes from the environment.
await ServiceStart.run("voiceflow-signaling", configuration: { try SignalingConfiguration() }, logLevel: \.service.logLevel) { configuration, logger in
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
