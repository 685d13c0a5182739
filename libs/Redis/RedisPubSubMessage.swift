/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel it was published on.
    public let channel: String
    /// The pattern that matched, for PSUBSCRIBE subscriptions.
    public let pattern: String?
    /// The published bytes.
    public let payload: [UInt8]

    /// Creates a message.
    public init(channel: String, pattern: String?, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }

    /// The payload as UTF-8 text.
    public var string: String {
        String(decoding: payload, as: UTF8.self)
    }
}
