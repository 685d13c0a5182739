import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOPosix
import ServiceLifecycle

/// `/health` and `/ready` on a port of their own, served by a thread of their own: the edge's
/// health checks are answered at once even while every other thread of the process is busy
/// (a connect storm), since the kernel wakes this idle thread first. Answers come from a
/// ``ReadinessMonitor`` through ``HealthFastPath``. Run it as a `Service`.
public struct HealthListener: Service {
    let host: String
    let port: Int
    let monitor: ReadinessMonitor
    let logger: Logger

    /// A listener on `host:port` answering from `monitor`.
    public init(host: String, port: Int, monitor: ReadinessMonitor, logger: Logger) {
        self.host = host
        self.port = port
        self.monitor = monitor
        self.logger = logger
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let monitor = self.monitor
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                    try channel.pipeline.syncOperations.addHandler(HealthFastPath(monitor: monitor))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("Health listener started", metadata: ["port": "\(port)"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        try await group.shutdownGracefully()
    }
}
