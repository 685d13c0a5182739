import Hummingbird
import Logging
import VoiceFlowCommon
import WebService

/// `voiceflow-web`: serves the browser client built by `web/build.sh`. Configuration comes from the environment.
await ServiceStart.run("voiceflow-web") {
    let configuration = try WebConfiguration()
    let level = Logger.Level(configValue: configuration.logLevel)
    LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
    let logger = Logger(label: "voiceflow-web")
    try await buildApplication(configuration: configuration, logger: logger).runService()
}
