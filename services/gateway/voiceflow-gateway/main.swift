import GatewayService
import Logging
import ServiceLifecycle
import VoiceFlowCommon

/// `voiceflow-gateway`: the Socket.IO endpoint. Run any number of them behind the edge.
let configuration = try GatewayConfiguration()
let level = Logger.Level(configValue: configuration.service.logLevel)
LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
let logger = Logger(label: "voiceflow-gateway")
let gateway = try await buildGateway(configuration: configuration, logger: logger)
try await gateway.run()
