/// The messages of one SUBSCRIBE/PSUBSCRIBE call, as an `AsyncSequence`.
///
/// It ends when ``unsubscribe()`` is called, when iteration is cancelled, or when the subscriber
/// shuts down. It survives Redis reconnects: the subscriber re-subscribes its channels.
/// Its buffer holds at most ``RedisSubscriber/bufferLimit`` messages; when a consumer falls that far
/// behind, the oldest are dropped (and a warning logged) rather than growing without bound.
public struct RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubMessage

    private let stream: AsyncStream<RedisPubSubMessage>
    private let cancel: @Sendable () -> Void

    init(stream: AsyncStream<RedisPubSubMessage>, cancel: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.cancel = cancel
    }

    /// Stops delivery; channels no other subscription needs are unsubscribed on the server.
    public func unsubscribe() async {
        cancel()
    }

    public func makeAsyncIterator() -> AsyncStream<RedisPubSubMessage>.Iterator {
        stream.makeAsyncIterator()
    }
}
