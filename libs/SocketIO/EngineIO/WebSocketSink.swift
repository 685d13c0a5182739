/// The outgoing side of one WebSocket: a bounded queue of frames that a single writer task
/// drains in order.
final class WebSocketSink: Sendable {
    let frames: AsyncStream<EngineData>
    private let continuation: AsyncStream<EngineData>.Continuation

    /// - Parameter limit: frames queued before the peer counts as a slow consumer.
    init(limit: Int) {
        (frames, continuation) = AsyncStream.makeStream(of: EngineData.self, bufferingPolicy: .bufferingOldest(limit))
    }

    /// Queues a frame; false when the queue is full or closed.
    func send(_ frame: EngineData) -> Bool {
        if case .enqueued = continuation.yield(frame) { return true }
        return false
    }

    /// Ends the queue: the writer sends what is queued, then closes the WebSocket.
    func finish() {
        continuation.finish()
    }
}
