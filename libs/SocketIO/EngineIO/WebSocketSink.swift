import NIOCore
import NIOWebSocket
import Synchronization

/// One WebSocket frame from the server, encoded for the wire: header and payload in one buffer.
/// A frame encoded once for many sockets shares that buffer among them (a `ByteBuffer` copy
/// shares its storage), so a broadcast costs no per-socket encoding or copy.
struct WebSocketFrameBytes: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text, binary

        var opcode: UInt8 {
            switch self {
            case .text: return 0x1
            case .binary: return 0x2
            }
        }
    }

    let kind: Kind
    /// The whole frame: FIN and opcode, the payload length, the payload (unmasked, as a server sends).
    let wire: ByteBuffer
    /// Payload bytes, as counted against a sink's bound.
    let byteCount: Int

    init(_ data: EngineData) {
        switch data {
        case .text(let text): self.init(kind: .text, payloadLength: text.utf8.count) { $0.writeString(text) }
        case .binary(let bytes): self.init(kind: .binary, payloadLength: bytes.count) { $0.writeBytes(bytes) }
        }
    }

    private init(kind: Kind, payloadLength: Int, writePayload: (inout ByteBuffer) -> Void) {
        self.kind = kind
        self.byteCount = payloadLength
        var wire = ByteBufferAllocator().buffer(capacity: payloadLength + 10)
        wire.writeInteger(0x80 | kind.opcode)
        switch payloadLength {
        case ..<126:
            wire.writeInteger(UInt8(payloadLength))
        case ...Int(UInt16.max):
            wire.writeInteger(UInt8(126))
            wire.writeInteger(UInt16(payloadLength))
        default:
            wire.writeInteger(UInt8(127))
            wire.writeInteger(UInt64(payloadLength))
        }
        writePayload(&wire)
        self.wire = wire
    }

    /// The payload, without the header.
    var payload: ByteBuffer { wire.getSlice(at: wire.readerIndex + wire.readableBytes - byteCount, length: byteCount) ?? ByteBuffer() }

    /// The frame's data (for tests and logs).
    var data: EngineData {
        switch kind {
        case .text: return .text(String(buffer: payload))
        case .binary: return .binary(Array(payload.readableBytesView))
        }
    }
}

/// Where a ``WebSocketSink`` writes: the WebSocket connection's channel.
protocol WebSocketFrameOutput: Sendable {
    /// Runs `body` where the connection's writes happen, after every body submitted before it.
    func execute(_ body: @escaping @Sendable () -> Void)
    /// Writes `frames` in order and flushes them (called from an ``execute(_:)`` body).
    /// `completion` runs once they have left for the peer, or can never leave.
    func write(_ frames: [WebSocketFrameBytes], completion: @escaping @Sendable () -> Void)
}

/// The outgoing side of one WebSocket: frames are handed straight to the connection's event loop
/// (no task per connection drains them), several queued meanwhile going out in one flush. The
/// frames queued and those the connection has not yet sent are bounded in bytes. Once finished
/// and drained, it says so (`whenDrained`), and the WebSocket can be closed then, whatever its
/// reader is waiting for.
///
/// A frame larger than the whole bound is still accepted when nothing waits (one large
/// acknowledgement must not cut a client off); otherwise a frame that does not fit is refused and
/// the peer counts as a slow consumer.
final class WebSocketSink: Sendable {
    private struct State {
        /// Frames waiting for the event loop.
        var queue: [WebSocketFrameBytes] = []
        /// Bytes of `queue`.
        var queuedBytes = 0
        /// Bytes handed to the connection and not yet sent to the peer.
        var unsentBytes = 0
        /// Whether an ``WebSocketSink/drain()`` is on its way to the event loop.
        var drainScheduled = false
        /// No frame is accepted any more; the writer closes the WebSocket once `queue` is empty.
        var finished = false
        /// The close code and reason the WebSocket ends with (normal closure when unset).
        var closeStatus: (code: UInt16, reason: String)?
    }

    /// Bytes waiting before the peer counts as a slow consumer.
    let limit: Int
    private let output: any WebSocketFrameOutput
    private let state = Mutex(State())
    private let whenDrained: @Sendable (_ closeStatus: (code: UInt16, reason: String)?) -> Void

    /// - Parameters:
    ///   - limit: bytes waiting (queued or unsent) before the peer counts as a slow consumer.
    ///   - output: the connection the frames go to.
    ///   - whenDrained: runs once, on the connection's event loop, when the sink is finished and
    ///     every frame was handed to the connection, with the close code and reason set by
    ///     ``finish(code:reason:)``.
    init(
        limit: Int, output: any WebSocketFrameOutput,
        whenDrained: @escaping @Sendable (_ closeStatus: (code: UInt16, reason: String)?) -> Void = { _ in }
    ) {
        self.limit = limit
        self.output = output
        self.whenDrained = whenDrained
    }

    /// Queues a frame; false when it does not fit in the bound or the sink is finished.
    func send(_ frame: WebSocketFrameBytes) -> Bool {
        send([frame])
    }

    /// Queues frames in order, to leave in one write: all of them, or none when together they do
    /// not fit in the bound or the sink is finished.
    func send(_ frames: [WebSocketFrameBytes]) -> Bool {
        let size = frames.reduce(0) { $0 + $1.byteCount }
        let (accepted, schedule) = state.withLock { state -> (Bool, Bool) in
            guard !state.finished else { return (false, false) }
            guard !frames.isEmpty else { return (true, false) }
            let waiting = state.queuedBytes + state.unsentBytes
            // As if sent one by one: only a lone frame may exceed the bound, when nothing waits.
            guard waiting + size <= limit || (waiting == 0 && frames.count == 1) else { return (false, false) }
            var schedule = false
            for frame in frames where Self.append(frame, size: frame.byteCount, to: &state) { schedule = true }
            return (true, schedule)
        }
        if schedule { scheduleDrain() }
        return accepted
    }

    /// Queues an engine frame (see ``send(_:)-(WebSocketFrameBytes)``).
    func send(_ data: EngineData) -> Bool {
        send(WebSocketFrameBytes(data))
    }

    /// Queues a frame whatever the bound (the last words to a client being cut off).
    func forceSend(_ data: EngineData) {
        let frame = WebSocketFrameBytes(data)
        let schedule = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            return Self.append(frame, size: frame.byteCount, to: &state)
        }
        if schedule { scheduleDrain() }
    }

    /// Appends to the queue; true when a drain must be scheduled.
    private static func append(_ frame: WebSocketFrameBytes, size: Int, to state: inout State) -> Bool {
        state.queue.append(frame)
        state.queuedBytes += size
        guard !state.drainScheduled else { return false }
        state.drainScheduled = true
        return true
    }

    private func scheduleDrain() {
        output.execute { self.drain() }
    }

    /// On the event loop: writes what is queued, with one flush.
    private func drain() {
        let (frames, bytes, finished, closeStatus) = state.withLock { state in
            defer {
                state.queue.removeAll(keepingCapacity: true)
                state.unsentBytes += state.queuedBytes
                state.queuedBytes = 0
                state.drainScheduled = false
            }
            return (state.queue, state.queuedBytes, state.finished, state.closeStatus)
        }
        if !frames.isEmpty {
            output.write(frames) {
                self.state.withLock { $0.unsentBytes -= bytes }
            }
        }
        // Once finished, no drain is scheduled any more: this one is the last.
        if finished { whenDrained(closeStatus) }
    }

    /// Bytes waiting: queued, or handed to the connection and not yet sent.
    var pendingBytes: Int { state.withLock { $0.queuedBytes + $0.unsentBytes } }

    /// Ends the queue: what is queued goes out, then the writer closes the WebSocket.
    func finish() {
        finish(status: nil)
    }

    /// Ends the queue; the WebSocket is closed with `code` and `reason` (a refused handshake).
    func finish(code: UInt16, reason: String) {
        finish(status: (code, reason))
    }

    private func finish(status: (code: UInt16, reason: String)?) {
        let schedule = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.finished = true
            if let status { state.closeStatus = status }
            guard !state.drainScheduled else { return false }
            state.drainScheduled = true
            return true
        }
        if schedule { scheduleDrain() }
    }
}

/// A WebSocket's NIO channel as a sink's output: encoded frames are written on the channel's event
/// loop by an ``EncodedFrameWriter`` just below the pipeline's WebSocket frame encoder (see
/// ``EngineWebSocketHandler/install(on:server:handshake:closeTimeout:)``).
struct ChannelFrameOutput: WebSocketFrameOutput {
    let eventLoop: any EventLoop
    let writer: NIOLoopBound<EncodedFrameWriter>

    func execute(_ body: @escaping @Sendable () -> Void) {
        eventLoop.execute(body)
    }

    func write(_ frames: [WebSocketFrameBytes], completion: @escaping @Sendable () -> Void) {
        let promise = eventLoop.makePromise(of: Void.self)
        writer.value.write(frames, promise: promise)
        promise.futureResult.whenComplete { _ in completion() }
    }
}

/// Writes whole, already encoded WebSocket frames into a WebSocket channel's pipeline just below
/// its WebSocket frame encoder, whose own writes (a close frame, a pong) pass through unchanged.
/// The frames carry no extension (the server negotiates none, compression included).
final class EncodedFrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `frames` in order and flushes them; `promise` completes with the last one.
    func write(_ frames: [WebSocketFrameBytes], promise: EventLoopPromise<Void>) {
        guard let context else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        for (index, frame) in frames.enumerated() {
            context.write(wrapOutboundOut(frame.wire), promise: index == frames.count - 1 ? promise : nil)
        }
        context.flush()
    }
}
