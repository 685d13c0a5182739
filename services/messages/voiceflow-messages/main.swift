import Hummingbird
import Logging
import MessagesService
import NIOCore
import NIOPosix
import VoiceFlowCommon

/// `voiceflow-messages`: messages and history. Configuration comes from the environment.
// Tasks run on the event loops that do the I/O (before any task starts): a request's handler,
// its database and Redis calls and its response stay on those threads instead of hopping to
// Swift Concurrency's own pool and back at every await.
let tasksOnEventLoops = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await ServiceStart.run("voiceflow-messages", configuration: { try MessagesConfiguration() }, logLevel: \.service.logLevel) { configuration, logger in
    if !tasksOnEventLoops { logger.warning("Tasks run on Swift Concurrency's own threads: the event loops could not take them") }
    let application = try await buildApplication(configuration: configuration, logger: logger)
    try await application.runService()
}
