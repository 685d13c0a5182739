import Hummingbird
import Logging
import RoomsService
import VoiceFlowCommon

/// `voiceflow-rooms`: rooms, join codes, membership and roles. Configuration comes from the environment.
await ServiceStart.run("voiceflow-rooms", configuration: { try RoomsConfiguration() }, logLevel: \.service.logLevel) { configuration, logger in
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
