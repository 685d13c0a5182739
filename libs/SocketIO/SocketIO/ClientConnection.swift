import OrderedCollections

import Logging
import Synchronization

/// One Engine.IO session seen by Socket.IO: decodes packets, joins namespaces, and hands events
/// to sockets.
///
/// Two loops run per connection: the reader decodes and resolves acknowledgements at once (so a
/// handler awaiting an ack from its own client cannot deadlock), and the dispatcher runs connects,
/// disconnects and event handlers one at a time, in arrival order.
final class ClientConnection: Sendable {
    let session: EngineSession
    private let server: SocketIOServer
    private let sockets = Mutex<[String: Socket]>([:])
    private let everConnected = Atomic<Bool>(false)
    /// Namespace CONNECTs left to this connection (each runs the namespace's middleware).
    private let connectBudget: Mutex<TokenBucket>

    init(session: EngineSession, server: SocketIOServer) {
        self.session = session
        self.server = server
        let configuration = server.configuration
        self.connectBudget = Mutex(
            TokenBucket(rate: configuration.connectsPerSecond, burst: Double(configuration.connectBurst)))
    }

    func run() async {
        let (work, workQueue) = AsyncStream.makeStream(
            of: SocketIOPacket.self, bufferingPolicy: .bufferingOldest(server.configuration.maxPendingEvents))
        await withTaskGroup(of: Void.self) { timer in
            timer.addTask { await self.enforceConnectTimeout() }
            // Both loops end on their own when the session's messages end.
            await withTaskGroup(of: Void.self) { loops in
                loops.addTask { await self.read(into: workQueue) }
                loops.addTask {
                    for await packet in work { await self.handle(packet) }
                }
            }
            timer.cancelAll()
        }
        let remaining = sockets.withLock { sockets in
            defer { sockets.removeAll() }
            return Array(sockets.values)
        }
        let reason = SocketDisconnectReason(session.closeReason)
        for socket in remaining { await socket.close(reason: reason) }
    }

    private func read(into workQueue: AsyncStream<SocketIOPacket>.Continuation) async {
        var decoder = SocketIOPacketDecoder()
        defer { workQueue.finish() }
        for await message in session.messages {
            let packet: SocketIOPacket?
            do {
                packet = try decoder.decode(message)
            } catch {
                server.logger.debug("Invalid Socket.IO packet", metadata: ["engine.sid": "\(session.id)", "reason": "\(error.reason)"])
                session.close(reason: .parseError)
                return
            }
            guard let packet else { continue }
            switch packet.type {
            case .ack, .binaryAck:
                if let id = packet.id, case .array(let arguments)? = packet.data {
                    sockets.withLock { $0[packet.namespace] }?.resolveAck(id: id, arguments: arguments)
                }
            case .connectError:
                session.close(reason: .parseError)
                return
            case .connect, .disconnect, .event, .binaryEvent:
                if case .dropped = workQueue.yield(packet) {
                    server.logger.notice("Client sends faster than its events are handled", metadata: ["engine.sid": "\(session.id)"])
                    session.close(reason: .slowConsumer)
                    return
                }
            }
        }
    }

    private func handle(_ packet: SocketIOPacket) async {
        switch packet.type {
        case .connect:
            await connect(packet)
        case .disconnect:
            if let socket = sockets.withLock({ $0[packet.namespace] }) {
                await detach(socket, reason: .clientDisconnect)
            }
        case .event, .binaryEvent:
            // Events for a namespace the client has not joined are ignored, as the reference server does.
            await sockets.withLock { $0[packet.namespace] }?.dispatch(packet)
        case .ack, .binaryAck, .connectError:
            break
        }
    }

    private func connect(_ packet: SocketIOPacket) async {
        guard connectBudget.withLock({ $0.take() }) else {
            // CONNECT/DISCONNECT cycling: every CONNECT costs a middleware run (a token check, say).
            server.logger.notice("Client connects too often", metadata: ["engine.sid": "\(session.id)"])
            session.send(
                SocketIOPacket(type: .connectError, namespace: packet.namespace, data: ["message": "Too many connection attempts"])
                    .encoded())
            session.close()
            return
        }
        guard let namespace = server.namespace(named: packet.namespace) else {
            session.send(
                SocketIOPacket(type: .connectError, namespace: packet.namespace, data: ["message": "Invalid namespace"]).encoded())
            return
        }
        guard sockets.withLock({ $0[packet.namespace] }) == nil else { return }
        let handshake = SocketHandshake(
            auth: packet.data ?? .object([:]), query: session.handshake.query, headers: session.handshake.headers,
            remoteAddress: session.handshake.remoteAddress)
        let socket = Socket(id: SessionID.make(), namespace: namespace, handshake: handshake, connection: self)
        do {
            try await namespace.admit(socket)
        } catch {
            session.send(SocketIOPacket(type: .connectError, namespace: namespace.name, data: error.payload).encoded())
            namespace.unregister(socket)
            return
        }
        everConnected.store(true, ordering: .relaxed)
        sockets.withLock { $0[namespace.name] = socket }
        session.send(SocketIOPacket(type: .connect, namespace: namespace.name, data: ["sid": .string(socket.id)]).encoded())
        await namespace.connected(socket)
    }

    /// Takes a socket out of its namespace. The connection stays open (the client may join a
    /// namespace again), as the reference server does.
    func detach(_ socket: Socket, reason: SocketDisconnectReason) async {
        sockets.withLock { sockets in
            if sockets[socket.namespace.name] === socket { sockets[socket.namespace.name] = nil }
        }
        await socket.close(reason: reason)
    }

    private func enforceConnectTimeout() async {
        do {
            try await Task.sleep(for: server.configuration.connectTimeout)
        } catch {
            return
        }
        if !everConnected.load(ordering: .relaxed) { session.closeUnjoined() }
    }
}
