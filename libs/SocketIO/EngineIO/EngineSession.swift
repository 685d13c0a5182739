import NIOCore
import NIOPosix
import Synchronization

/// One Engine.IO client session, whichever transport currently carries it.
///
/// Thread-safe: all state sits behind one mutex, and nothing blocking happens while it is held
/// (continuations are resumed and queues are appended to, both non-blocking). Its timers (the
/// heartbeat, and those of the layers above) are scheduled on one event loop, so an idle session
/// has no task waiting for them.
public final class EngineSession: Sendable {
    /// The session id (`sid`).
    public let id: String
    /// The HTTP request that opened the session.
    public let handshake: EngineHandshake
    /// Messages from the client, in order; ends when the session closes.
    public let messages: AsyncStream<EngineData>

    let configuration: EngineConfiguration
    /// Where the session's timers run (a WebSocket session's is its connection's event loop).
    let eventLoop: any EventLoop
    private let inbound: AsyncStream<EngineData>.Continuation
    private let state: Mutex<State>
    private let closed: AsyncStream<EngineCloseReason>.Continuation
    /// Yields the close reason once, when the session closes.
    let closeSignal: AsyncStream<EngineCloseReason>
    /// Ends once nothing more will be delivered (see ``isFinished``).
    let finished: AsyncStream<Void>
    private let finishedContinuation: AsyncStream<Void>.Continuation
    /// The session's place among the server's silent sessions, until its client first speaks.
    private let pendingTicket: PendingTicket?
    /// Where the client's messages go when they are not queued on ``messages``; held while one is
    /// handed over, so that deliveries never overlap.
    private let receiver = Mutex<(any EngineSessionReceiver)?>(nil)
    /// Runs once, when the session closes.
    private let whenClosed: @Sendable (EngineSession) -> Void

    enum Transport {
        case polling
        case webSocket(WebSocketSink)
    }

    enum Phase: Equatable {
        case open
        /// Closed by the server; a polling client still has the `close` packet to fetch.
        case closing
        case closed
    }

    struct State {
        var transport: Transport
        var probe: WebSocketSink?
        var outbox: [EnginePacket] = []
        /// Bytes of the packets in `outbox`.
        var outboxBytes = 0
        var pendingPoll: CheckedContinuation<[EnginePacket]?, Never>?
        var phase: Phase = .open
        var closeReason: EngineCloseReason?
        var awaitingPong = false
        /// Whether the client ever sent a GET: a polling client that never did cannot be told anything.
        var everPolled = false
        /// The heartbeat's next step (a ping, or the check that it was answered).
        var heartbeat: Scheduled<Void>?
    }

    init(
        id: String, handshake: EngineHandshake, transport: Transport, configuration: EngineConfiguration,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(), pendingTicket: PendingTicket? = nil,
        whenClosed: @escaping @Sendable (EngineSession) -> Void = { _ in }
    ) {
        self.id = id
        self.eventLoop = eventLoop
        self.whenClosed = whenClosed
        self.handshake = handshake
        self.configuration = configuration
        self.pendingTicket = pendingTicket
        (finished, finishedContinuation) = AsyncStream.makeStream(of: Void.self)
        (messages, inbound) = AsyncStream.makeStream(
            of: EngineData.self, bufferingPolicy: .bufferingOldest(configuration.maxPendingInboundPackets))
        (closeSignal, closed) = AsyncStream.makeStream(of: EngineCloseReason.self, bufferingPolicy: .bufferingNewest(1))
        state = Mutex(State(transport: transport))
    }

    /// The transport in use: "polling" or "websocket".
    public var transportName: String {
        state.withLock { state in
            if case .webSocket = state.transport { return "websocket" }
            return "polling"
        }
    }

    /// Whether the session is open.
    public var isOpen: Bool { state.withLock { $0.phase == .open } }

    /// Why the session closed, once it has.
    public var closeReason: EngineCloseReason? { state.withLock { $0.closeReason } }

    // MARK: Sending

    /// Sends messages, in order, as consecutive packets (Socket.IO binary attachments rely on it).
    /// Returns false when the session is closed.
    @discardableResult
    public func send(_ messages: [EngineData]) -> Bool {
        enqueue(messages.map { .message($0) })
    }

    /// Closes the session from the server side: the client receives `close`, then the transport ends.
    public func close() {
        close(reason: .serverClose)
    }

    /// Sends messages encoded once for many sessions (the same bytes go to each), in order.
    /// Returns false when the session is closed.
    @discardableResult
    public func send(prepared messages: [EnginePreparedMessage]) -> Bool {
        enqueue(messages.map { (EnginePacket.message($0.data), $0.webSocketFrame) })
    }

    @discardableResult
    func enqueue(_ packets: [EnginePacket]) -> Bool {
        enqueue(packets.map { ($0, nil) })
    }

    /// Queues packets (with their WebSocket frames when already encoded), bounded in bytes: a
    /// client whose queue would exceed ``EngineConfiguration/maxBufferedBytes`` is cut off.
    private func enqueue(_ items: [(packet: EnginePacket, frame: WebSocketFrameBytes?)]) -> Bool {
        var overflow = false
        let sent = state.withLock { state -> Bool in
            guard state.phase == .open else { return false }
            switch state.transport {
            case .webSocket(let sink):
                let frames = items.map { $0.frame ?? WebSocketFrameBytes(EngineCodec.webSocketFrame(for: $0.packet)) }
                guard sink.send(frames) else {
                    overflow = true
                    return false
                }
            case .polling:
                let size = items.reduce(0) { $0 + $1.packet.byteCount }
                guard state.outboxBytes == 0 || state.outboxBytes + size <= configuration.maxBufferedBytes else {
                    overflow = true
                    return false
                }
                state.outbox.append(contentsOf: items.map(\.packet))
                state.outboxBytes += size
                Self.flushPendingPoll(&state)
            }
            return true
        }
        if overflow { close(reason: .slowConsumer, notice: configuration.slowConsumerNotice) }
        return sent
    }

    private static func flushPendingPoll(_ state: inout State) {
        guard let poll = state.pendingPoll, !state.outbox.isEmpty else { return }
        state.pendingPoll = nil
        let packets = state.takeOutbox()
        poll.resume(returning: packets)
    }

    // MARK: Receiving

    /// Handles one packet from the client, on whichever transport it came.
    func receive(_ packet: EnginePacket) {
        switch packet.type {
        case .message:
            guard let data = packet.data, isOpen else { return }
            pendingTicket?.release()
            let delivered = receiver.withLock { receiver -> Bool in
                guard let receiver else { return false }
                receiver.receive(data)
                return true
            }
            if !delivered, case .dropped = inbound.yield(data) { close(reason: .slowConsumer) }
        case .pong:
            state.withLock { $0.awaitingPong = false }
        case .ping:
            // v4 clients do not ping (the server does), but answering costs nothing.
            enqueue([EnginePacket(.pong, packet.data)])
        case .close:
            close(reason: .transportClose)
        case .noop, .upgrade:
            break
        case .open:
            close(reason: .parseError)
        }
    }

    // MARK: Polling

    /// Answers a long-polling GET: the queued packets, waiting for some when there are none.
    /// `nil` means the request is refused (session upgraded, closed, or a poll already waiting).
    func poll() async -> [EnginePacket]? {
        enum Immediate {
            case packets([EnginePacket]), refused, duplicate, wait
        }
        let immediate = state.withLock { state -> Immediate in
            guard case .polling = state.transport, state.phase != .closed else { return .refused }
            if state.pendingPoll != nil { return .duplicate }
            state.everPolled = true
            // Mid-upgrade, a poll is answered at once so the client can pause polling.
            if state.probe != nil, state.outbox.isEmpty { return .packets([EnginePacket(.noop)]) }
            if !state.outbox.isEmpty {
                return .packets(state.takeOutbox())
            }
            return .wait
        }
        switch immediate {
        case .refused:
            return nil
        case .duplicate:
            // Two concurrent polls break the protocol: the session ends; the waiting poll gets `close`.
            close(reason: .transportError, notify: true)
            return nil
        case .packets(let packets):
            afterDelivery(packets)
            return packets
        case .wait:
            let packets = await withCheckedContinuation { (continuation: CheckedContinuation<[EnginePacket]?, Never>) in
                state.withLock { state in
                    guard case .polling = state.transport, state.phase != .closed else {
                        continuation.resume(returning: [EnginePacket(.noop)])
                        return
                    }
                    if !state.outbox.isEmpty {
                        continuation.resume(returning: state.takeOutbox())
                    } else if state.pendingPoll != nil {
                        continuation.resume(returning: nil)
                    } else {
                        state.pendingPoll = continuation
                    }
                }
            }
            if let packets { afterDelivery(packets) }
            return packets
        }
    }

    /// A delivered `close` packet ends a session the server was closing.
    private func afterDelivery(_ packets: [EnginePacket]) {
        if packets.contains(where: { $0.type == .close }) { finalize() }
    }

    /// Handles a polling POST body. Returns false (and closes the session) when it is not Engine.IO.
    func receive(pollingPayload payload: String) -> Bool {
        let packets: [EnginePacket]
        do {
            packets = try EngineCodec.packets(fromPollingPayload: payload)
        } catch {
            close(reason: .parseError)
            return false
        }
        for packet in packets { receive(packet) }
        return true
    }

    /// Whether a polling request may still use this session.
    var acceptsPolling: Bool {
        state.withLock { state in
            guard case .polling = state.transport else { return false }
            return state.phase != .closed
        }
    }

    // MARK: Upgrade

    /// Starts an upgrade: a WebSocket answered the probe. False if the session cannot upgrade.
    func beginUpgrade(_ sink: WebSocketSink) -> Bool {
        state.withLock { state in
            guard state.phase == .open, case .polling = state.transport, state.probe == nil else { return false }
            state.probe = sink
            // Release a waiting poll (with what is queued, or a noop) so the client can pause
            // polling and finish the upgrade.
            if let poll = state.pendingPoll {
                state.pendingPoll = nil
                let packets = state.outbox.isEmpty ? [EnginePacket(.noop)] : state.takeOutbox()
                poll.resume(returning: packets)
            }
            return true
        }
    }

    /// Completes an upgrade: the WebSocket becomes the transport and receives what was queued.
    func completeUpgrade(_ sink: WebSocketSink) -> Bool {
        var overflow = false
        let upgraded = state.withLock { state -> Bool in
            guard state.phase == .open, state.probe === sink else { return false }
            state.probe = nil
            state.transport = .webSocket(sink)
            if let poll = state.pendingPoll {
                state.pendingPoll = nil
                poll.resume(returning: [EnginePacket(.noop)])
            }
            for packet in state.takeOutbox() where !sink.send(WebSocketFrameBytes(EngineCodec.webSocketFrame(for: packet))) {
                overflow = true
                break
            }
            return true
        }
        if overflow { close(reason: .slowConsumer, notice: configuration.slowConsumerNotice) }
        return upgraded
    }

    /// Abandons an upgrade (the probing WebSocket went away or timed out).
    func cancelUpgrade(_ sink: WebSocketSink) {
        state.withLock { state in
            if state.probe === sink { state.probe = nil }
        }
        sink.finish()
    }

    /// Whether `sink` is the session's transport now.
    func isTransport(_ sink: WebSocketSink) -> Bool {
        state.withLock { state in
            if case .webSocket(let current) = state.transport { return current === sink }
            return false
        }
    }

    // MARK: Heartbeat

    /// Starts the heartbeat: a ping every `pingInterval`, and a ping still unanswered
    /// `pingTimeout` later closes the session (``EngineCloseReason/pingTimeout``). Each step is a
    /// timer on the session's event loop; closing the session stops it.
    func startHeartbeat() {
        scheduleHeartbeat(after: configuration.pingInterval) { $0.ping() }
    }

    private func ping() {
        guard isOpen else { return }
        sendPing()
        scheduleHeartbeat(after: configuration.pingTimeout) { $0.checkPong() }
    }

    private func checkPong() {
        guard isOpen else { return }
        if isAwaitingPong {
            close(reason: .pingTimeout)
            return
        }
        let (interval, timeout) = (configuration.pingInterval, configuration.pingTimeout)
        scheduleHeartbeat(after: interval > timeout ? interval - timeout : .zero) { $0.ping() }
    }

    private func scheduleHeartbeat(after delay: Duration, _ step: @escaping @Sendable (EngineSession) -> Void) {
        let timer = schedule(after: delay) { [weak self] in
            if let self { step(self) }
        }
        let kept = state.withLock { state -> Bool in
            guard state.phase == .open else { return false }
            state.heartbeat = timer
            return true
        }
        if !kept { timer.cancel() }
    }

    /// Runs `body` on the session's event loop after `delay`, unless cancelled first.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        eventLoop.scheduleTask(in: TimeAmount(delay), body)
    }

    /// Sends a ping and notes that a pong is due.
    func sendPing() {
        state.withLock { $0.awaitingPong = true }
        enqueue([EnginePacket(.ping)])
    }

    /// Whether the last ping is still unanswered.
    var isAwaitingPong: Bool { state.withLock { $0.awaitingPong } }

    // MARK: Closing

    /// Closes the session. A server close tells the client first (`close` packet); other reasons
    /// end it at once. A `notice` (a message saying why) goes out first, past the queue's bound,
    /// followed by the `close` packet.
    func close(reason: EngineCloseReason, notify: Bool? = nil, notice: EngineData? = nil) {
        let tellClient = notify ?? (reason == .serverClose || reason == .serverShutdown || notice != nil)
        let didClose = state.withLock { state -> Bool in
            guard state.phase == .open else { return false }
            state.closeReason = reason
            state.probe?.finish()
            state.probe = nil
            switch state.transport {
            case .webSocket(let sink):
                if let notice { sink.forceSend(EngineCodec.webSocketFrame(for: .message(notice))) }
                if tellClient { sink.forceSend(EngineCodec.webSocketFrame(for: EnginePacket(.close))) }
                sink.finish()
                state.phase = .closed
            case .polling:
                if let notice { state.outbox.append(.message(notice)) }
                if tellClient {
                    state.outbox.append(EnginePacket(.close))
                    if state.pendingPoll != nil {
                        Self.flushPendingPoll(&state)
                        state.phase = .closed
                    } else {
                        state.phase = .closing
                    }
                } else {
                    state.pendingPoll?.resume(returning: [EnginePacket(.noop)])
                    state.pendingPoll = nil
                    state.phase = .closed
                }
            }
            return true
        }
        guard didClose else { return }
        state.withLock { $0.heartbeat.take() }?.cancel()
        pendingTicket?.release()
        if isFinished { finishedContinuation.finish() }
        inbound.finish()
        closed.yield(reason)
        closed.finish()
        whenClosed(self)
    }

    // MARK: Receiver

    /// Hands the client's messages to `receiver` from now on, as they arrive, instead of queueing
    /// them on ``messages``.
    func attach(_ receiver: any EngineSessionReceiver) {
        self.receiver.withLock { $0 = receiver }
    }

    /// The receiver attached, which the session then lets go of (it usually refers back to it).
    func detachReceiver() -> (any EngineSessionReceiver)? {
        receiver.withLock { $0.take() }
    }

    /// Closes a session whose client never joined in time. A polling client that never even
    /// polled is not told (nobody would fetch the `close` packet), so the session ends at once.
    func closeUnjoined() {
        let tellClient = state.withLock { state -> Bool in
            if case .polling = state.transport { return state.everPolled }
            return true
        }
        close(reason: .serverClose, notify: tellClient)
    }

    /// Marks a closing polling session closed once its `close` packet was fetched.
    private func finalize() {
        state.withLock { state in
            if state.phase == .closing { state.phase = .closed }
        }
        finishedContinuation.finish()
    }

    /// Stops waiting for a closing polling client to fetch its `close` packet (the server is
    /// shutting down): ``finished`` ends now.
    func abandonDelivery() {
        finishedContinuation.finish()
    }

    /// Whether nothing more will be delivered (closed, or closing with the `close` packet fetched).
    var isFinished: Bool { state.withLock { $0.phase == .closed } }
}

extension EngineSession.State {
    /// Empties the polling queue and returns what it held.
    mutating func takeOutbox() -> [EnginePacket] {
        defer {
            outbox.removeAll(keepingCapacity: true)
            outboxBytes = 0
        }
        return outbox
    }
}

/// An Engine.IO message encoded once for many sessions: each session is handed the same bytes
/// (a broadcast to a room encodes its packet once, however many sockets receive it).
public struct EnginePreparedMessage: Sendable {
    /// The message's data.
    public let data: EngineData
    /// The WebSocket frame carrying it, one buffer shared by every socket it is written to.
    let webSocketFrame: WebSocketFrameBytes

    /// Encodes `data` once.
    public init(_ data: EngineData) {
        self.data = data
        self.webSocketFrame = WebSocketFrameBytes(EngineCodec.webSocketFrame(for: .message(data)))
    }
}

/// What the request that opened a session carried.
public struct EngineHandshake: Sendable {
    /// Query parameters of the opening request.
    public var query: [String: String]
    /// Headers of the opening request (lowercased names).
    public var headers: [String: String]
    /// The peer's address, as the server saw it.
    public var remoteAddress: String?

    public init(query: [String: String], headers: [String: String], remoteAddress: String?) {
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }
}

/// Takes a session's messages as they arrive, with no task waiting for them (see
/// ``EngineServer/init(configuration:logger:eventLoopGroup:receiver:)``).
public protocol EngineSessionReceiver: AnyObject, Sendable {
    /// Starts the receiver, before the session's first message.
    func start()
    /// A message from the client. Calls come in order and never overlap, from the thread that
    /// read the message (a WebSocket's event loop, a POST's task): they must not block.
    func receive(_ message: EngineData)
    /// The session closed: no message follows. Runs in a task of its own.
    func sessionEnded() async
}
