import GatewayService
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import VoiceFlowCommon

/// `voiceflow-gateway`: the Socket.IO endpoint. Run any number of them behind the edge.
// Tasks run on the event loops that do the I/O (before any task starts): a request's handler,
// its database and Redis calls and its response stay on those threads instead of hopping to
// Swift Concurrency's own pool and back at every await.
let tasksOnEventLoops = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await ServiceStart.run("voiceflow-gateway", configuration: { try GatewayConfiguration() }, logLevel: \.service.logLevel) { configuration, logger in
    if !tasksOnEventLoops { logger.warning("Tasks run on Swift Concurrency's own threads: the event loops could not take them") }
    let gateway = try await buildGateway(configuration: configuration, logger: logger)
    try await gateway.run()
}
