import Hummingbird
import Logging
import VoiceFlowCommon
import WebService

/// `voiceflow-web`: serves the browser client built by `web/build.sh`. Configuration comes from the environment.
await ServiceStart.run("voiceflow-web", configuration: { try WebConfiguration() }, logLevel: \.logLevel) { configuration, logger in
    try await buildApplication(configuration: configuration, logger: logger).runService()
}
