import Logging
import ServiceLifecycle
import Synchronization

/// A Socket.IO v5 server over Engine.IO v4.
///
/// Run ``engine`` as a `Service`, route HTTP to it, and handle connections per namespace:
///
/// ```swift
/// let io = SocketIOServer(configuration: .init(), logger: logger)
/// io.sockets.use { socket in
///     guard socket.handshake.auth["token"] != nil else { throw SocketIOConnectError("unauthorized") }
/// }
/// io.sockets.onConnection { socket in
///     await socket.join("lobby")
///     socket.on("chat") { socket, args, ack in
///         await socket.to("lobby").emit("chat", args)
///         ack?([])
///     }
/// }
/// io.engine.addRoutes(to: router, path: "/socket.io")
/// let app = Application(router: router, server: .engineIO(["/socket.io": io.engine]))
/// ```
public final class SocketIOServer: Sendable {
    /// Makes the adapter of each namespace (in memory by default; a ``RedisAdapter`` for several nodes).
    public typealias AdapterFactory = @Sendable (_ namespace: String) -> any SocketIOAdapter

    public let configuration: SocketIOConfiguration
    /// The Engine.IO server carrying the connections; run it as a `Service`.
    public let engine: EngineServer
    let logger: Logger
    private let namespaces = Mutex<[String: Namespace]>([:])
    private let adapterFactory: AdapterFactory
    private let connectionHandler: ConnectionHandlerBox

    public init(
        configuration: SocketIOConfiguration, logger: Logger,
        adapter: @escaping AdapterFactory = { _ in InMemoryAdapter() }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.adapterFactory = adapter
        let box = ConnectionHandlerBox()
        self.connectionHandler = box
        self.engine = EngineServer(configuration: configuration.engine, logger: logger, receiver: box.receiver(for:))
        box.server.withLock { $0.value = self }
    }

    /// The main namespace, `/`.
    public var sockets: Namespace { of("/") }

    /// The namespace `name`, created on first use (clients can only join namespaces created here).
    public func of(_ name: String) -> Namespace {
        let name = name.hasPrefix("/") ? name : "/" + name
        return namespaces.withLock { namespaces in
            if let existing = namespaces[name] { return existing }
            let namespace = Namespace(name: name, adapter: adapterFactory(name), configuration: configuration)
            namespaces[name] = namespace
            return namespace
        }
    }

    func namespace(named name: String) -> Namespace? {
        namespaces.withLock { $0[name] }
    }
}

/// Lets the engine's session handler reach the server it belongs to without a retain cycle.
private final class ConnectionHandlerBox: Sendable {
    struct WeakServer: Sendable {
        weak var value: SocketIOServer?
    }

    let server = Mutex(WeakServer())

    func receiver(for session: EngineSession) -> any EngineSessionReceiver {
        guard let server = server.withLock({ $0.value }) else { return Refusal(session: session) }
        return ClientConnection(session: session, server: server)
    }

    /// The receiver of a session that came after its server was gone: it closes the session.
    private final class Refusal: EngineSessionReceiver {
        let session: EngineSession

        init(session: EngineSession) {
            self.session = session
        }

        func start() { session.close() }
        func receive(_ message: EngineData) {}
        func sessionEnded() async {}
    }
}
