import Foundation
import Logging
import VoiceFlowRedis

/// Publishes room events on Redis, after the change they describe was committed.
///
/// Publishing is best effort: if Redis is unreachable the event is logged and dropped, and the
/// request that caused it still succeeds (PostgreSQL holds the truth; clients catch up from it).
public struct EventPublisher: Sendable {
    private let redis: RedisClient
    private let logger: Logger

    /// Creates a publisher over a Redis client.
    public init(redis: RedisClient, logger: Logger) {
        self.redis = redis
        self.logger = logger
    }

    /// Publishes `event` on its room's channel.
    public func publish(_ event: RoomEvent) async {
        var event = event
        event.publishedAt = Date().timeIntervalSince1970
        // Message events, the most frequent by far, are written directly; the rest by the encoder.
        guard let data = MessageJSON.encode(event) ?? (try? WireDateCoding.encoder().encode(event)).map(Array.init),
            let roomId = UUID(uuidString: event.roomId)
        else { return }
        do {
            try await redis.publish(RoomEvent.channel(for: roomId), String(decoding: data, as: UTF8.self))
        } catch {
            logger.error("Event not published", metadata: ["event.type": "\(event.type.rawValue)", "room.id": "\(event.roomId)"])
        }
    }
}
