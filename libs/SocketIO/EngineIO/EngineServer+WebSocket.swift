import NIOCore
import NIOWebSocket
import WSCore

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

    /// Runs one WebSocket connection: a new session, or the upgrade of a polling session (`sid`).
    /// Frames to the client are written, already encoded, into `channel` (the connection's NIO
    /// channel) just below its WebSocket frame encoder; `outbound` closes the WebSocket at the end.
    /// Returns when the connection is over.
    public func handleWebSocket(
        handshake: EngineHandshake, channel: any Channel, inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter
    ) async {
        guard let output = await ChannelFrameOutput.install(on: channel) else { return }
        let sink = WebSocketSink(limit: configuration.maxBufferedBytes, output: output)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Closes the WebSocket once the session is done with it and every frame is written.
                for await _ in sink.drained {}
                if let status = sink.closeStatus {
                    try? await outbound.close(.unknown(status.code), reason: status.reason)
                } else {
                    try? await outbound.close(.normalClosure, reason: nil)
                }
            }
            group.addTask {
                await self.read(inbound, sink: sink, handshake: handshake)
                sink.finish()
            }
        }
    }

    private func read(_ inbound: WebSocketInboundStream, sink: WebSocketSink, handshake: EngineHandshake) async {
        let session: EngineSession
        var upgrading: Bool
        if let sid = handshake.query["sid"] {
            // Already upgraded (or gone): this WebSocket is closed without a word.
            guard let existing = self.session(id: sid), existing.acceptsPolling else { return }
            session = existing
            upgrading = true
        } else {
            switch openSession(handshake: handshake, transport: .webSocket(sink)) {
            case .success(let created):
                session = created
            case .failure(let refusal):
                let close = refusal.webSocketClose
                sink.finish(code: close.code, reason: close.reason)
                return
            }
            upgrading = false
        }
        // A probe that does not complete the upgrade in time is dropped.
        let upgradeTimer: Task<Void, Never>? =
            upgrading
            ? Task { [upgradeTimeout = configuration.upgradeTimeout] in
                try? await Task.sleep(for: upgradeTimeout)
                if !Task.isCancelled, !session.isTransport(sink) { session.cancelUpgrade(sink) }
            } : nil
        defer { upgradeTimer?.cancel() }
        var probed = false
        do {
            for try await message in inbound.messages(maxSize: configuration.maxPayload) {
                let frame: EngineData
                switch message {
                case .text(let text): frame = .text(text)
                case .binary(let buffer): frame = .binary(Array(buffer.readableBytesView))
                }
                guard let packet = try? EngineCodec.packet(fromWebSocketFrame: frame) else {
                    if upgrading { session.cancelUpgrade(sink) } else { session.close(reason: .parseError) }
                    return
                }
                if upgrading {
                    switch (packet.type, packet.data) {
                    case (.ping, .text("probe")?) where !probed:
                        _ = sink.send(.text("3probe"))
                        guard session.beginUpgrade(sink) else {
                            session.cancelUpgrade(sink)
                            return
                        }
                        probed = true
                    case (.upgrade, _) where probed:
                        upgradeTimer?.cancel()
                        guard session.completeUpgrade(sink) else { return }
                        upgrading = false
                    case (.noop, _):
                        break
                    default:
                        session.cancelUpgrade(sink)
                        return
                    }
                    continue
                }
                session.receive(packet)
                if !session.isOpen { return }
            }
        } catch {
            // Too large a message, a protocol violation, or the connection failed.
            if !upgrading {
                session.close(reason: .transportError)
                return
            }
        }
        if upgrading {
            session.cancelUpgrade(sink)
        } else if session.isTransport(sink) {
            session.close(reason: .transportClose)
        }
    }
}
