import DequeModule
import Logging
import NIOCore
import OrderedCollections
import Synchronization

/// One Engine.IO session seen by Socket.IO: decodes packets, joins namespaces, and hands events
/// to sockets.
///
/// The session hands it each message as it arrives (``receive(_:)``; no task waits for them): it
/// decodes, and resolves acknowledgements at once (so a handler awaiting an ack from its own
/// client cannot deadlock). Connects, disconnects and events are run one at a time, in arrival
/// order, by a dispatcher task that exists only while there is work, and the connect timeout is a
/// timer: an idle connection has no task at all.
final class ClientConnection: EngineSessionReceiver {
    let session: EngineSession
    private let server: SocketIOServer
    private let sockets = Mutex<[String: Socket]>([:])
    private let everConnected = Atomic<Bool>(false)
    private let work = Mutex(Work())
    /// The decoder (a binary event's attachments span messages), and whether reading stopped.
    private let reading = Mutex(Reading())
    private let connectTimeout = Mutex<Scheduled<Void>?>(nil)

    private struct Reading {
        var decoder = SocketIOPacketDecoder()
        /// The client broke the protocol or sent too fast: nothing more of it is read.
        var stopped = false
    }

    /// Packets waiting for the dispatcher, whether one runs, and who waits for it to finish.
    /// (No handle to the dispatcher task is kept: a finished task's memory goes with it.)
    private struct Work {
        /// Each with the instant it was read (what a handler's rate limit goes by, see ``Socket/eventReceivedAt``).
        var packets = Deque<(packet: SocketIOPacket, receivedAt: ContinuousClock.Instant)>()
        /// A dispatcher runs; it stops when `packets` is empty.
        var dispatching = false
        /// The session's end, waiting for the dispatcher to finish.
        var finishWaiter: CheckedContinuation<Void, Never>?
    }
    /// Namespace CONNECTs left to this connection (each runs the namespace's middleware).
    private let connectBudget: Mutex<TokenBucket>

    init(session: EngineSession, server: SocketIOServer) {
        self.session = session
        self.server = server
        let configuration = server.configuration
        self.connectBudget = Mutex(
            TokenBucket(rate: configuration.connectsPerSecond, burst: Double(configuration.connectBurst)))
    }

    /// Starts the connect timeout: a connection that joins no namespace in time is closed.
    func start() {
        let timer = session.schedule(after: server.configuration.connectTimeout) { [weak self] in
            guard let self, !self.everConnected.load(ordering: .relaxed) else { return }
            self.session.closeUnjoined()
        }
        connectTimeout.withLock { $0 = timer }
    }

    func sessionEnded() async {
        connectTimeout.withLock { $0.take() }?.cancel()
        // What was read is handled before the sockets go.
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let idle = work.withLock { work -> Bool in
                guard work.dispatching else { return true }
                work.finishWaiter = waiter
                return false
            }
            if idle { waiter.resume() }
        }
        let remaining = sockets.withLock { sockets in
            defer { sockets.removeAll() }
            return Array(sockets.values)
        }
        let reason = SocketDisconnectReason(session.closeReason)
        for socket in remaining { await socket.close(reason: reason) }
    }

    func receive(_ message: EngineData) {
        let decoded = reading.withLock { reading -> Result<SocketIOPacket?, SocketIOPacketError> in
            guard !reading.stopped else { return .success(nil) }
            do throws(SocketIOPacketError) {
                return .success(try reading.decoder.decode(message))
            } catch {
                reading.stopped = true
                return .failure(error)
            }
        }
        let packet: SocketIOPacket?
        switch decoded {
        case .success(let decodedPacket):
            packet = decodedPacket
        case .failure(let error):
            server.logger.debug("Invalid Socket.IO packet", metadata: ["engine.sid": "\(session.id)", "reason": "\(error.reason)"])
            session.close(reason: .parseError)
            return
        }
        guard let packet else { return }
        switch packet.type {
        case .ack, .binaryAck:
            if let id = packet.id, case .array(let arguments)? = packet.data {
                sockets.withLock { $0[packet.namespace] }?.resolveAck(id: id, arguments: arguments)
            }
        case .connectError:
            stopReading()
            session.close(reason: .parseError)
        case .connect, .disconnect, .event, .binaryEvent:
            guard dispatch(packet) else {
                stopReading()
                server.logger.notice("Client sends faster than its events are handled", metadata: ["engine.sid": "\(session.id)"])
                session.close(reason: .slowConsumer)
                return
            }
        }
    }

    private func stopReading() {
        reading.withLock { $0.stopped = true }
    }

    /// Queues `packet` for the dispatcher, starting one when none runs; false when the queue is full.
    private func dispatch(_ packet: SocketIOPacket) -> Bool {
        let limit = server.configuration.maxPendingEvents
        return work.withLock { work in
            guard work.packets.count < limit else { return false }
            work.packets.append((packet, ContinuousClock.now))
            if !work.dispatching {
                work.dispatching = true
                Task { await self.drain() }
            }
            return true
        }
    }

    /// Handles the queued packets one at a time, in order, until none is left.
    private func drain() async {
        while true {
            let (next, waiter) = work.withLock {
                work -> ((packet: SocketIOPacket, receivedAt: ContinuousClock.Instant)?, CheckedContinuation<Void, Never>?) in
                if let next = work.packets.popFirst() { return (next, nil) }
                work.dispatching = false
                defer { work.finishWaiter = nil }
                return (nil, work.finishWaiter)
            }
            guard let next else {
                waiter?.resume()
                return
            }
            await handle(next.packet, receivedAt: next.receivedAt)
        }
    }

    private func handle(_ packet: SocketIOPacket, receivedAt: ContinuousClock.Instant) async {
        switch packet.type {
        case .connect:
            await connect(packet, receivedAt: receivedAt)
        case .disconnect:
            if let socket = sockets.withLock({ $0[packet.namespace] }) {
                await detach(socket, reason: .clientDisconnect)
            }
        case .event, .binaryEvent:
            // Events for a namespace the client has not joined are ignored, as the reference server does.
            await sockets.withLock { $0[packet.namespace] }?.dispatch(packet, receivedAt: receivedAt)
        case .ack, .binaryAck, .connectError:
            break
        }
    }

    private func connect(_ packet: SocketIOPacket, receivedAt: ContinuousClock.Instant) async {
        guard connectBudget.withLock({ $0.take(at: receivedAt) }) else {
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
}
