import NIOCore
import NIOWebSocket

/// Serves one upgraded WebSocket of an ``EngineServer`` inside the channel's pipeline, after
/// NIO's WebSocket frame decoder: no task waits on the connection, so an open WebSocket costs
/// only its state.
///
/// It puts messages together (a fragmented one up to `maxPayload` bytes; text must be UTF-8),
/// answers pings, and runs the close handshake: a client's close is answered, then the
/// connection closes; when the session is done with the WebSocket (its sink finished and every
/// frame written), the server's close goes out and the connection closes once the client answers,
/// or after `closeTimeout`. A protocol violation closes it with the RFC 6455 code that says why.
/// Frames to the client are written by the session's ``WebSocketSink`` through an
/// ``EncodedFrameWriter``; this handler writes only control frames.
final class EngineWebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case open
        /// The server's close went out; the client's answer is awaited.
        case closing(timeout: Scheduled<Void>?)
        case closed
    }

    private let server: EngineServer
    private let handshake: EngineHandshake
    private let writer: EncodedFrameWriter
    private let maxPayload: Int
    private let closeTimeout: TimeAmount
    private var transport: EngineWebSocketTransport?
    private var context: ChannelHandlerContext?
    private var phase = Phase.open
    /// A fragmented message being put together: its opcode and the bytes so far.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?

    private init(server: EngineServer, handshake: EngineHandshake, writer: EncodedFrameWriter, closeTimeout: Duration) {
        self.server = server
        self.handshake = handshake
        self.writer = writer
        self.maxPayload = server.configuration.maxPayload
        self.closeTimeout = TimeAmount(closeTimeout)
    }

    /// Adds the handler and the frame writer its session writes through to `channel` (just upgraded).
    static func install(on channel: any Channel, server: EngineServer, handshake: EngineHandshake, closeTimeout: Duration) throws {
        let pipeline = channel.pipeline.syncOperations
        let writer = EncodedFrameWriter()
        try pipeline.addHandler(writer, position: .before(pipeline.handler(type: WebSocketFrameEncoder.self)))
        try pipeline.addHandler(
            EngineWebSocketHandler(server: server, handshake: handshake, writer: writer, closeTimeout: closeTimeout))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let eventLoop = context.eventLoop
        let output = ChannelFrameOutput(eventLoop: eventLoop, writer: NIOLoopBound(writer, eventLoop: eventLoop))
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        // Called on the event loop once the session is done with this WebSocket and every frame went out.
        let sink = WebSocketSink(limit: server.configuration.maxBufferedBytes, output: output) { status in
            handler.value.closeFromServer(status: status)
        }
        transport = EngineWebSocketTransport(server: server, handshake: handshake, sink: sink, eventLoop: eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end(failed: false)
        // The sink's close callback refers back to this handler: let go of it.
        transport = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(failed: false)
        if case .closing(let timeout) = phase { timeout?.cancel() }
        phase = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's protocol error handler (before this one) has already answered a frame it could
        // not decode with a close; any other error ends the connection too.
        end(failed: true)
        phase = .closed
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard case .open = phase else {
            // Closing: only the client's answering close matters.
            if case .closing(let timeout) = phase, frame.opcode == .connectionClose {
                timeout?.cancel()
                phase = .closed
                context.close(promise: nil)
            }
            return
        }
        // A client masks every frame, and no extension was negotiated that would set a reserved bit.
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(.protocolError) }
            if frame.fin {
                deliver(frame.opcode, frame.unmaskedData)
            } else {
                fragments = (frame.opcode, frame.unmaskedData)
            }
        case .continuation:
            guard var message = fragments else { return fail(.protocolError) }
            var data = frame.unmaskedData
            guard message.data.readableBytes + data.readableBytes <= maxPayload else { return fail(.messageTooLarge) }
            message.data.writeBuffer(&data)
            if frame.fin {
                fragments = nil
                deliver(message.opcode, message.data)
            } else {
                fragments = message
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .connectionClose:
            // Answered with the client's own code (a close without one is answered without one).
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self)
            end(failed: false)
            phase = .closed
            var answer = context.channel.allocator.buffer(capacity: 2)
            if let code { answer.writeInteger(code) }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: answer)))
                .whenComplete { _ in channel.close(promise: nil) }
        default:
            fail(.protocolError)
        }
    }

    private func deliver(_ opcode: WebSocketOpcode, _ data: ByteBuffer) {
        guard let transport, !transport.isDone else { return }
        let message: EngineData
        if opcode == .text {
            guard let text = String(validating: data.readableBytesView, as: UTF8.self) else { return fail(.dataInconsistentWithMessage) }
            message = .text(text)
        } else {
            message = .binary(Array(data.readableBytesView))
        }
        _ = transport.receive(message)
    }

    /// Ends the session's use of the WebSocket (once).
    private func end(failed: Bool) {
        transport?.ended(failed: failed)
    }

    /// Closes at once with `code`: the client broke the protocol.
    private func fail(_ code: WebSocketErrorCode) {
        end(failed: true)
        sendClose(code: code, reason: nil)
    }

    /// The session is done with the WebSocket and every frame was written: the close goes out,
    /// with the code and reason the session set (normal closure otherwise).
    private func closeFromServer(status: (code: UInt16, reason: String)?) {
        guard case .open = phase else { return }
        sendClose(code: status.map { WebSocketErrorCode(codeNumber: Int($0.code)) } ?? .normalClosure, reason: status?.reason)
    }

    private func sendClose(code: WebSocketErrorCode, reason: String?) {
        guard let context, case .open = phase else { return }
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        let channel = context.channel
        phase = .closing(timeout: context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) })
    }
}
