import Synchronization

/// A client's connection to one namespace.
///
/// ```swift
/// io.sockets.onConnection { socket in
///     socket.on("message") { socket, args, ack in
///         socket.emit("message-back", args)
///         ack?(args)
///     }
/// }
/// ```
public final class Socket: Sendable {
    /// Handles an event: the socket, the arguments, and the acknowledgement to call when the client asked for one.
    public typealias EventHandler = @Sendable (Socket, [SocketIOValue], SocketIOAck?) async -> Void
    /// Runs once, when the socket leaves its namespace.
    public typealias DisconnectHandler = @Sendable (Socket, SocketDisconnectReason) async -> Void

    /// The socket id (also the name of a room only this socket is in).
    public let id: String
    /// The namespace it joined.
    public let namespace: Namespace
    /// What the client sent when it connected.
    public let handshake: SocketHandshake
    let connection: ClientConnection

    private struct State {
        var eventHandlers: [String: EventHandler] = [:]
        var anyHandler: EventHandler?
        var disconnectHandlers: [DisconnectHandler] = []
        var nextAckID = 0
        var pendingAcks: [Int: CheckedContinuation<[SocketIOValue], any Error>] = [:]
        var connected = true
        var data: (any Sendable)?
    }

    private let state = Mutex(State())

    init(id: String, namespace: Namespace, handshake: SocketHandshake, connection: ClientConnection) {
        self.id = id
        self.namespace = namespace
        self.handshake = handshake
        self.connection = connection
    }

    /// The transport carrying the socket now: "polling" or "websocket".
    public var transportName: String { connection.session.transportName }

    /// Whether the socket is still in its namespace.
    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Application data attached to the socket (the authenticated user, say).
    public var data: (any Sendable)? {
        get { state.withLock { $0.data } }
        set { state.withLock { $0.data = newValue } }
    }

    // MARK: Handlers

    /// Handles `event` from the client. Events of one connection are handled one at a time, in order.
    /// (For a handler every socket shares, see ``Namespace/on(_:_:)``.)
    public func on(_ event: String, _ handler: @escaping EventHandler) {
        state.withLock { $0.eventHandlers[event] = handler }
    }

    /// Handles every event that has no handler of its own; the arguments start with the event name.
    public func onAny(_ handler: @escaping EventHandler) {
        state.withLock { $0.anyHandler = handler }
    }

    /// Runs `handler` when the socket leaves its namespace, for whatever reason.
    public func onDisconnect(_ handler: @escaping DisconnectHandler) {
        state.withLock { $0.disconnectHandlers.append(handler) }
    }

    // MARK: Emitting

    /// Sends `event` with `arguments` to this client.
    public func emit(_ event: String, _ arguments: [SocketIOValue] = []) {
        send(.event(event, arguments, namespace: namespace.name))
    }

    /// Sends an event encoded once for many sockets: this socket is handed the same bytes as the others.
    /// Returns false when the socket or its connection is gone (or was just cut off as a slow consumer).
    @discardableResult
    public func emit(_ event: PreparedEvent) -> Bool {
        guard isConnected else { return false }
        return connection.session.send(prepared: [event.message])
    }

    /// Sends prepared events in order, handed to the connection at once (on a WebSocket, they
    /// leave in one write); false when the socket is gone or they overflow its queue.
    @discardableResult
    public func emit(_ events: [PreparedEvent]) -> Bool {
        guard isConnected else { return false }
        return connection.session.send(prepared: events.map(\.message))
    }

    /// Sends `event` and waits for the client's acknowledgement.
    /// - Throws: ``SocketIOAckError`` on timeout or disconnection.
    public func emitWithAck(_ event: String, _ arguments: [SocketIOValue] = [], timeout: Duration? = nil) async throws
        -> [SocketIOValue]
    {
        let timeout = timeout ?? namespace.configuration.ackTimeout
        let id = state.withLock { state -> Int in
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
        return try await withThrowingTaskGroup(of: [SocketIOValue].self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let registered = self.state.withLock { state -> Bool in
                        guard state.connected else { return false }
                        state.pendingAcks[id] = continuation
                        return true
                    }
                    guard registered else {
                        continuation.resume(throwing: SocketIOAckError.disconnected)
                        return
                    }
                    self.send(.event(event, arguments, namespace: self.namespace.name, id: id))
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let continuation = self.state.withLock { $0.pendingAcks.removeValue(forKey: id) }
                continuation?.resume(throwing: SocketIOAckError.timeout)
                throw SocketIOAckError.timeout
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw SocketIOAckError.timeout }
            return result
        }
    }

    /// A broadcast to `room` that leaves this socket out.
    public func to(_ room: String) -> BroadcastOperator {
        namespace.to(room).except(id)
    }

    /// A broadcast to everyone in the namespace but this socket.
    public var broadcast: BroadcastOperator {
        namespace.except(id)
    }

    func send(_ packet: SocketIOPacket) {
        sendEncoded(packet.encoded())
    }

    func sendEncoded(_ messages: [EngineData]) {
        guard isConnected else { return }
        connection.session.send(messages)
    }

    func sendPrepared(_ messages: [EnginePreparedMessage]) {
        guard isConnected else { return }
        connection.session.send(prepared: messages)
    }

    // MARK: Rooms

    /// Joins `room`; broadcasts to it from any node reach this socket once this returns.
    public func join(_ room: String) async {
        await namespace.adapter.join(self, rooms: [room])
    }

    /// Leaves `room`.
    public func leave(_ room: String) async {
        await namespace.adapter.leave(self, rooms: [room])
    }

    /// The rooms this socket is in (its own id among them).
    public var rooms: Set<String> { namespace.adapter.rooms(of: self) }

    // MARK: Disconnecting

    /// Removes the socket from its namespace (the client is told); with `closeConnection`, the
    /// client's whole connection closes too.
    public func disconnect(closeConnection: Bool = false) async {
        if closeConnection {
            connection.session.close()
        } else if isConnected {
            send(SocketIOPacket(type: .disconnect, namespace: namespace.name))
            await connection.detach(self, reason: .serverDisconnect)
        }
    }

    // MARK: Inbound (called by the connection)

    /// When the event being handled was read from the connection; nil outside an event handler.
    ///
    /// A connection's events are handled one at a time, so under load an event may be handled
    /// well after it arrived: a per-client rate limit that goes by this instant meters the rate
    /// the client sends at, whatever the pace of the handlers.
    @TaskLocal public static var eventReceivedAt: ContinuousClock.Instant?

    func dispatch(_ packet: SocketIOPacket, receivedAt: ContinuousClock.Instant) async {
        await Self.$eventReceivedAt.withValue(receivedAt) { await dispatch(packet) }
    }

    private func dispatch(_ packet: SocketIOPacket) async {
        guard case .array(var values)? = packet.data, !values.isEmpty else { return }
        let nameValue = values.removeFirst()
        let name: String
        switch nameValue {
        case .string(let string): name = string
        case .int(let number): name = String(number)
        default: return
        }
        let (own, ownAny) = state.withLock { ($0.eventHandlers[name], $0.anyHandler) }
        let ack = packet.id.map { id in SocketIOAck(socket: self, id: id) }
        if let own {
            await own(self, values, ack)
            return
        }
        let shared = namespace.handlers(for: name)
        if let specific = shared.specific {
            await specific(self, values, ack)
        } else if let any = ownAny ?? shared.any {
            await any(self, [nameValue] + values, ack)
        }
    }

    func resolveAck(id: Int, arguments: [SocketIOValue]) {
        let continuation = state.withLock { $0.pendingAcks.removeValue(forKey: id) }
        continuation?.resume(returning: arguments)
    }

    /// Marks the socket gone and runs the disconnect handlers (once). Then the socket lets go of
    /// its handlers and its data, which often refer back to it.
    func close(reason: SocketDisconnectReason) async {
        let (handlers, acks) = state.withLock { state -> ([DisconnectHandler], [CheckedContinuation<[SocketIOValue], any Error>]) in
            guard state.connected else { return ([], []) }
            state.connected = false
            let acks = Array(state.pendingAcks.values)
            state.pendingAcks.removeAll()
            return (state.disconnectHandlers, acks)
        }
        for ack in acks { ack.resume(throwing: SocketIOAckError.disconnected) }
        for handler in handlers { await handler(self, reason) }
        await namespace.adapter.remove(self)
        namespace.unregister(self)
        state.withLock { state in
            state.eventHandlers.removeAll()
            state.anyHandler = nil
            state.disconnectHandlers.removeAll()
            state.data = nil
        }
    }
}

/// The acknowledgement a client asked for with an event; call it once with the reply.
public struct SocketIOAck: Sendable {
    let socket: Socket
    let id: Int

    /// Sends the acknowledgement with `arguments`.
    public func callAsFunction(_ arguments: [SocketIOValue]) {
        socket.send(SocketIOPacket(type: .ack, namespace: socket.namespace.name, id: id, data: .array(arguments)))
    }

    /// Sends the acknowledgement with one argument, `json`: a JSON text the caller already
    /// encoded (valid JSON, without binary placeholders), written as it is.
    public func callAsFunction(json argument: some Sequence<UInt8>) {
        socket.sendEncoded([.text(Self.ackText(namespace: socket.namespace.name, id: id, json: argument))])
    }

    /// The packet text of an acknowledgement with one pre-encoded JSON argument: the packet's
    /// type, namespace and id as ``SocketIOPacket`` writes them, then the argument list.
    static func ackText(namespace: String, id: Int, json argument: some Sequence<UInt8>) -> String {
        guard case .text(let header) = SocketIOPacket(type: .ack, namespace: namespace, id: id).encoded()[0] else { return "" }
        var bytes = Array(header.utf8)
        bytes.append(UInt8(ascii: "["))
        bytes += argument
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What the client sent when it joined a namespace.
public struct SocketHandshake: Sendable {
    /// The CONNECT packet's payload (`{}` when it had none).
    public var auth: SocketIOValue
    /// Query parameters of the connection's first request.
    public var query: [String: String]
    /// Headers of the connection's first request (lowercased names).
    public var headers: [String: String]
    /// The client's address, as the server saw it.
    public var remoteAddress: String?
}
