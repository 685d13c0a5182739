import NIOCore
import NIOWebSocket

extension EngineServer {
    /// Whether a WebSocket upgrade request may proceed: valid `EIO`/`transport`, and for an
    /// upgrade, a known session (one that cannot upgrade any more has its WebSocket accepted, then
    /// closed, as the reference server does). A new session beyond the handshake limits is
    /// accepted too, then closed with 1008 (too many from its address) or 1013 (try again later):
    /// a refused upgrade could not say why.
    public func shouldUpgrade(query: [String: String]) -> Bool {
        guard isAccepting, validate(query, isWebSocket: true) == nil else { return false }
        if let sid = query["sid"] { return session(id: sid) != nil }
        return true
    }
}

/// The Engine.IO side of one WebSocket: a new session, or the upgrade of a polling session
/// (`sid`). Its frames to the client go through `sink`; the client's messages are handed to
/// ``receive(_:)`` one at a time. Bound to the connection's event loop, where
/// ``EngineWebSocketHandler`` calls it.
final class EngineWebSocketTransport {
    let sink: WebSocketSink
    private let session: EngineSession?
    /// Probing or upgrading a polling session, not yet its transport.
    private var upgrading: Bool
    private var probed = false
    private var upgradeTimer: Scheduled<Void>?
    /// Nothing more is read: the session is done with this WebSocket.
    private(set) var isDone = false

    init(server: EngineServer, handshake: EngineHandshake, sink: WebSocketSink, eventLoop: any EventLoop) {
        self.sink = sink
        if let sid = handshake.query["sid"] {
            // Already upgraded (or gone): this WebSocket is closed without a word.
            if let existing = server.session(id: sid), existing.acceptsPolling {
                session = existing
            } else {
                session = nil
            }
            upgrading = true
        } else {
            switch server.openSession(handshake: handshake, transport: .webSocket(sink), eventLoop: eventLoop) {
            case .success(let created):
                session = created
            case .failure(let refusal):
                let close = refusal.webSocketClose
                sink.finish(code: close.code, reason: close.reason)
                session = nil
            }
            upgrading = false
        }
        guard let session else {
            isDone = true
            sink.finish()
            return
        }
        // A probe that does not complete the upgrade in time is dropped.
        if upgrading {
            upgradeTimer = eventLoop.scheduleTask(in: TimeAmount(server.configuration.upgradeTimeout)) { [sink] in
                if !session.isTransport(sink) { session.cancelUpgrade(sink) }
            }
        }
    }

    /// One message from the client. Returns false once nothing more is to be read (the
    /// WebSocket then closes, as soon as what the sink holds is written).
    func receive(_ frame: EngineData) -> Bool {
        guard let session, !isDone else { return false }
        guard let packet = try? EngineCodec.packet(fromWebSocketFrame: frame) else {
            if upgrading { session.cancelUpgrade(sink) } else { session.close(reason: .parseError) }
            return stop()
        }
        if upgrading {
            switch (packet.type, packet.data) {
            case (.ping, .text("probe")?) where !probed:
                _ = sink.send(.text("3probe"))
                guard session.beginUpgrade(sink) else {
                    session.cancelUpgrade(sink)
                    return stop()
                }
                probed = true
            case (.upgrade, _) where probed:
                upgradeTimer?.cancel()
                guard session.completeUpgrade(sink) else { return stop() }
                upgrading = false
            case (.noop, _):
                break
            default:
                session.cancelUpgrade(sink)
                return stop()
            }
            return true
        }
        session.receive(packet)
        return session.isOpen ? true : stop()
    }

    /// The WebSocket ended: closed by the client, or failed (a protocol violation, too large a
    /// message, a broken connection).
    func ended(failed: Bool) {
        guard !isDone else { return }
        if let session {
            if upgrading {
                session.cancelUpgrade(sink)
            } else if failed {
                session.close(reason: .transportError)
            } else if session.isTransport(sink) {
                session.close(reason: .transportClose)
            }
        }
        _ = stop()
    }

    private func stop() -> Bool {
        isDone = true
        upgradeTimer?.cancel()
        upgradeTimer = nil
        sink.finish()
        return false
    }
}
