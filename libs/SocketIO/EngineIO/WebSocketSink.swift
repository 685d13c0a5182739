import Synchronization

/// The outgoing side of one WebSocket: a queue of frames, bounded in bytes, that a single writer
/// task drains in order.
///
/// A frame larger than the whole bound is still accepted when the queue is empty (one large
/// acknowledgement must not cut a client off); otherwise a frame that does not fit is refused and
/// the peer counts as a slow consumer.
final class WebSocketSink: Sendable {
    let frames: AsyncStream<EngineData>
    private let continuation: AsyncStream<EngineData>.Continuation
    /// Bytes queued and not yet taken by the writer.
    private let queuedBytes = Mutex(0)
    /// Bytes queued before the peer counts as a slow consumer.
    let limit: Int
    /// The close code and reason the writer ends the WebSocket with (normal closure when unset).
    private let closing = Mutex<(code: UInt16, reason: String)?>(nil)

    /// - Parameter limit: bytes queued before the peer counts as a slow consumer.
    init(limit: Int) {
        self.limit = limit
        (frames, continuation) = AsyncStream.makeStream(of: EngineData.self, bufferingPolicy: .unbounded)
    }

    /// Queues a frame; false when it does not fit in the bound or the queue is closed.
    func send(_ frame: EngineData) -> Bool {
        let size = frame.byteCount
        let fits = queuedBytes.withLock { queued -> Bool in
            guard queued == 0 || queued + size <= limit else { return false }
            queued += size
            return true
        }
        guard fits else { return false }
        return enqueue(frame, size: size)
    }

    /// Queues a frame whatever the bound (the last words to a client being cut off).
    func forceSend(_ frame: EngineData) {
        let size = frame.byteCount
        queuedBytes.withLock { $0 += size }
        _ = enqueue(frame, size: size)
    }

    private func enqueue(_ frame: EngineData, size: Int) -> Bool {
        if case .enqueued = continuation.yield(frame) { return true }
        queuedBytes.withLock { $0 -= size }
        return false
    }

    /// The writer took `frame` off the queue.
    func taken(_ frame: EngineData) {
        let size = frame.byteCount
        queuedBytes.withLock { $0 -= size }
    }

    /// Bytes waiting for the writer.
    var pendingBytes: Int { queuedBytes.withLock { $0 } }

    /// Ends the queue: the writer sends what is queued, then closes the WebSocket.
    func finish() {
        continuation.finish()
    }

    /// Ends the queue; the WebSocket is closed with `code` and `reason` (a refused handshake).
    func finish(code: UInt16, reason: String) {
        closing.withLock { $0 = (code, reason) }
        continuation.finish()
    }

    /// The close code and reason set by ``finish(code:reason:)``.
    var closeStatus: (code: UInt16, reason: String)? { closing.withLock { $0 } }
}
