import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// An Engine.IO v4 server: sessions over HTTP long-polling and WebSocket, upgrade between them,
/// heartbeats, and the protocol's answers to bad requests.
///
/// Run it as a `Service` (it runs every session's handler), route its polling transport with
/// ``addRoutes(to:path:)``, and serve its WebSocket transport with the HTTP server built by
/// `.engineIO` (``EngineHTTP1Channel``):
///
/// ```swift
/// let engine = EngineServer(configuration: .init(), logger: logger) { session in
///     for await message in session.messages { session.send([message]) }  // echo
/// }
/// engine.addRoutes(to: router, path: "/engine.io")
/// let app = Application(router: router, server: .engineIO(["/engine.io": engine]))
/// ```
public final class EngineServer: Service, Sendable {
    /// Handles one session; returns when its `messages` end.
    public typealias SessionHandler = @Sendable (EngineSession) async -> Void
    /// Makes the receiver of a new session's messages.
    public typealias ReceiverFactory = @Sendable (EngineSession) -> any EngineSessionReceiver

    /// How sessions are served: a task each, or a receiver each (no task while they are open).
    private enum Handling: Sendable {
        case task(SessionHandler)
        case receiver(ReceiverFactory)
    }

    /// What the server's run loop is told: a session to drive, or one to finish.
    private enum Event: Sendable {
        case opened(EngineSession)
        case ended(EngineSession)
    }

    public let configuration: EngineConfiguration
    let logger: Logger
    private let handling: Handling
    /// The event loops polling sessions' timers run on (a WebSocket session uses its connection's).
    private let eventLoopGroup: any EventLoopGroup
    private let sessions = Mutex<[String: EngineSession]>([:])
    private let accepting = Atomic<Bool>(true)
    private let admissionPaused = Atomic<Bool>(false)
    private let events: AsyncStream<Event>
    private let eventsContinuation: AsyncStream<Event>.Continuation
    let admission: HandshakeAdmission

    /// Creates a server; `handler` runs once per session, in a task of its own, concurrently with
    /// the others. Polling sessions' timers (the heartbeat, say) run on `eventLoopGroup`.
    public convenience init(
        configuration: EngineConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, handler: @escaping SessionHandler
    ) {
        self.init(configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup, handling: .task(handler))
    }

    /// Creates a server whose sessions hand their messages to a receiver each, made by `receiver`
    /// when the session opens: an open session has no task of its own. A task runs the
    /// receiver's ``EngineSessionReceiver/sessionEnded()`` once the session closes.
    public convenience init(
        configuration: EngineConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, receiver: @escaping ReceiverFactory
    ) {
        self.init(configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup, handling: .receiver(receiver))
    }

    private init(configuration: EngineConfiguration, logger: Logger, eventLoopGroup: any EventLoopGroup, handling: Handling) {
        self.configuration = configuration
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.handling = handling
        self.admission = HandshakeAdmission(limits: configuration.handshakeLimits)
        (events, eventsContinuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Number of open sessions.
    public var sessionCount: Int { sessions.withLock { $0.count } }

    /// Sessions whose client has not sent a message yet (see ``HandshakeLimits``).
    public var pendingSessionCount: Int { admission.pendingCount }

    /// Drives sessions until graceful shutdown, then closes them all and returns once their
    /// handlers have finished.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await event in events {
                    switch event {
                    case .opened(let session): group.addTask { await self.drive(session) }
                    case .ended(let session): group.addTask { await self.finish(session) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops accepting sessions and closes the open ones (clients are told, and reconnect elsewhere).
    public func shutdown() {
        accepting.store(false, ordering: .relaxed)
        let open = sessions.withLock { Array($0.values) }
        for session in open {
            session.close(reason: .serverShutdown)
            session.abandonDelivery()
        }
        // The sessions just closed are finished first (their events are already queued).
        eventsContinuation.finish()
    }

    /// Whether new sessions are accepted (false once shutting down).
    public var isAccepting: Bool { accepting.load(ordering: .relaxed) }

    /// Whether a handshake would open a session now: accepting, and admission not paused.
    public var isAdmitting: Bool { isAccepting && !admissionPaused.load(ordering: .relaxed) }

    /// Pauses (or resumes) opening new sessions while something they need is unavailable: new
    /// handshakes are refused with 503 and `Retry-After` (a new WebSocket is closed with 1013), so
    /// clients retry, through a balancer elsewhere. Open sessions and upgrades of open polling
    /// sessions are unaffected; ``shutdown()`` stops admission for good whatever this says.
    public func setAdmissionPaused(_ paused: Bool) {
        admissionPaused.store(paused, ordering: .relaxed)
    }

    // MARK: Sessions

    func session(id: String) -> EngineSession? {
        sessions.withLock { $0[id] }
    }

    /// Creates and registers a session, within the handshake limits. On a WebSocket, the `open`
    /// packet is queued before anyone else can send on it. Its timers run on `eventLoop` (by
    /// default, one of the server's).
    func openSession(
        handshake: EngineHandshake, transport: EngineSession.Transport, eventLoop: (any EventLoop)? = nil
    ) -> Result<EngineSession, HandshakeRefusal> {
        guard isAdmitting else { return .failure(.busy(retryAfterSeconds: 1)) }
        let ticket: PendingTicket
        switch admission.admit(address: handshake.remoteAddress) {
        case .success(let admitted): ticket = admitted
        case .failure(let refusal): return .failure(refusal)
        }
        let session: EngineSession
        var receiver: (any EngineSessionReceiver)?
        switch handling {
        case .task:
            session = EngineSession(
                id: SessionID.make(), handshake: handshake, transport: transport, configuration: configuration,
                eventLoop: eventLoop ?? eventLoopGroup.next(), pendingTicket: ticket)
        case .receiver(let makeReceiver):
            session = EngineSession(
                id: SessionID.make(), handshake: handshake, transport: transport, configuration: configuration,
                eventLoop: eventLoop ?? eventLoopGroup.next(), pendingTicket: ticket
            ) { [eventsContinuation] closed in eventsContinuation.yield(.ended(closed)) }
            let made = makeReceiver(session)
            session.attach(made)
            receiver = made
        }
        if case .webSocket(let sink) = transport {
            _ = sink.send(.text(openPacket(sid: session.id, upgrades: "[]")))
        }
        // Registered before anything can close it (a timer, a receiver), so that its end finds it.
        sessions.withLock { $0[session.id] = session }
        receiver?.start()
        session.startHeartbeat()
        if case .task = handling { eventsContinuation.yield(.opened(session)) }
        return .success(session)
    }

    func openPacket(sid: String, upgrades: String) -> String {
        "0{\"sid\":\"\(sid)\",\"upgrades\":\(upgrades),\"pingInterval\":\(EngineConfiguration.milliseconds(configuration.pingInterval)),"
            + "\"pingTimeout\":\(EngineConfiguration.milliseconds(configuration.pingTimeout)),\"maxPayload\":\(configuration.maxPayload)}"
    }

    /// One task per session: its handler. The heartbeat runs as timers beside it.
    private func drive(_ session: EngineSession) async {
        guard case .task(let handler) = handling else { return }
        logger.debug("Engine session opened", metadata: ["engine.sid": "\(session.id)"])
        // The handler ends when the session's messages end (a heartbeat that timed out closed it).
        await handler(session)
        session.close(reason: .serverClose)
        await forget(session)
    }

    /// A closed session of a receiver: the receiver's end runs, then the session is forgotten.
    private func finish(_ session: EngineSession) async {
        await session.detachReceiver()?.sessionEnded()
        await forget(session)
    }

    private func forget(_ session: EngineSession) async {
        await awaitDelivery(of: session)
        sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        logger.debug(
            "Engine session closed",
            metadata: ["engine.sid": "\(session.id)", "engine.reason": "\(session.closeReason?.rawValue ?? "")"])
    }

    /// A polling client told to close has until its next poll (bounded by the heartbeat) to fetch
    /// the `close` packet; then the session is forgotten. Nothing runs while it waits.
    private func awaitDelivery(of session: EngineSession) async {
        guard !session.isFinished, isAccepting else { return }
        let patience = configuration.pingInterval + configuration.pingTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in session.finished {} }
            group.addTask { try? await Task.sleep(for: patience) }
            await group.next()
            group.cancelAll()
        }
    }
}

/// Random, URL-safe session and socket ids.
public enum SessionID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 20 characters, 120 bits of randomness.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 20)
        for index in bytes.indices {
            bytes[index] = alphabet[Int(generator.next(upperBound: UInt8(64)))]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` has the shape of an id ``make()`` returns.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 20 && text.utf8.allSatisfy { alphabetSet.contains($0) }
    }

    private static let alphabetSet = Set(alphabet)
}
