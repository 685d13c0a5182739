import Hummingbird
import Logging
import MessagesService
import VoiceFlowCommon

/// `voiceflow-messages`: messages and history. Configuration comes from the environment.
let configuration = try MessagesConfiguration()
let level = Logger.Level(configValue: configuration.service.logLevel)
LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
let logger = Logger(label: "voiceflow-messages")
let application = try await buildApplication(configuration: configuration, logger: logger)
try await application.runService()
