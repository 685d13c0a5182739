import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import VoiceFlowSocketIO

/// The reference configuration of the Socket.IO and Engine.IO protocol test suites, on
/// 127.0.0.1:3000 (or `PORT`): Socket.IO at `/socket.io/` (namespaces `/` and `/custom`) and a bare
/// Engine.IO echo server at `/engine.io/`. `MAX_PENDING_PER_ADDRESS`, `HANDSHAKES_PER_SECOND` and
/// `HANDSHAKE_BURST` set the handshake limits (default: the library's); `MAX_BUFFERED_BYTES` the
/// bytes waiting for a client before it is cut off, `PING_INTERVAL_MS` the ping interval.
@main
struct ConformanceServer {
    static func main() async throws {
        var logger = Logger(label: "socketio-conformance-server")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let port = ProcessInfo.processInfo.environment["PORT"].flatMap(Int.init) ?? 3000

        var engineConfiguration = EngineConfiguration()
        engineConfiguration.pingInterval = .milliseconds(300)
        engineConfiguration.pingTimeout = .milliseconds(200)
        engineConfiguration.maxPayload = 1_000_000
        engineConfiguration.cors = .anyOrigin
        let environment = ProcessInfo.processInfo.environment
        if let value = environment["MAX_PENDING_PER_ADDRESS"].flatMap(Int.init) {
            engineConfiguration.handshakeLimits.maxPendingPerAddress = value
        }
        if let value = environment["HANDSHAKES_PER_SECOND"].flatMap(Int.init) { engineConfiguration.handshakeLimits.perSecond = value }
        if let value = environment["HANDSHAKE_BURST"].flatMap(Int.init) { engineConfiguration.handshakeLimits.burst = value }
        if let value = environment["MAX_BUFFERED_BYTES"].flatMap(Int.init) { engineConfiguration.maxBufferedBytes = value }
        if let value = environment["PING_INTERVAL_MS"].flatMap(Int.init) { engineConfiguration.pingInterval = .milliseconds(value) }

        var configuration = SocketIOConfiguration()
        configuration.engine = engineConfiguration
        configuration.connectTimeout = .milliseconds(1000)

        let io = SocketIOServer(configuration: configuration, logger: logger)
        for name in ["/", "/custom"] {
            io.of(name).onConnection { socket in
                socket.emit("auth", [socket.handshake.auth])
                socket.on("message") { socket, arguments, _ in
                    socket.emit("message-back", arguments)
                }
                socket.on("message-with-ack") { _, arguments, ack in
                    ack?(arguments)
                }
            }
        }

        let echo = EngineServer(configuration: engineConfiguration, logger: logger) { session in
            for await message in session.messages {
                session.send([message])
            }
        }

        let router = Router(context: ConformanceRequestContext.self)
        io.engine.addRoutes(to: router, path: "/socket.io")
        echo.addRoutes(to: router, path: "/engine.io")

        let app = Application(
            router: router,
            server: .engineIO(["/socket.io": io.engine, "/engine.io": echo]),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            services: [io.engine, echo],
            logger: logger
        )
        try await app.runService()
    }
}

/// The polling routes' context: it knows the TCP peer, as the WebSocket routes' does, so that the
/// per-address handshake limits count both transports' sessions together.
struct ConformanceRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
