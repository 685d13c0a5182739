import Foundation
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis

/// Keeps ``RoomAccessCache`` honest: listens to every room's events (`PSUBSCRIBE vf:room:*`) and
/// drops a room's cached answers when its members, their roles or its settings change, or when
/// it is deleted. Run it as a `Service`.
///
/// The cache is enabled only once the subscription is confirmed and disabled (emptied) when it
/// ends or cannot be made, so answers are kept only while events can arrive. Events missed while
/// the subscriber reconnects to Redis cannot be noticed (the subscriber restores subscriptions
/// without telling its users); the cache's short time to live bounds how long such a miss lasts,
/// and posting is checked against the database by the statement that stores the message anyway.
struct RoomAccessInvalidator: Service {
    /// Every room's channel (`RoomEvent.channel(for:)`).
    static let pattern = "vf:room:*"
    /// The event types that change what ``RoomAccess`` says.
    static let invalidating: Set<RoomEventType> = [
        .memberJoined, .memberLeft, .memberKicked, .memberRoleChanged, .roomUpdated, .roomDeleted,
    ]
    /// Byte strings one of which the payload of every invalidating event contains (its type).
    /// Payloads with none of them (messages being sent) are skipped without being parsed. Each
    /// starts with `m` or `r` (``mentionsMarker(_:)`` relies on it).
    static let markers: [[UInt8]] = [Array("member.".utf8), Array("room.updated".utf8), Array("room.deleted".utf8)]

    let subscriber: RedisSubscriber
    let cache: RoomAccessCache
    let logger: Logger
    /// How long to wait before subscribing again after a failure.
    var retryDelay: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let subscription = try await subscriber.psubscribe([Self.pattern])
                    failures = 0
                    cache.enable()
                    for await message in subscription { handle(message.payload) }
                    // The subscriber shut down.
                    cache.disable()
                    return
                } catch {
                    cache.disable()
                    failures += 1
                    if failures == 1 {
                        logger.warning("Room events unavailable, room access is not cached", metadata: ["error.type": "\(type(of: error))"])
                    }
                    try? await Task.sleep(for: retryDelay)
                }
            }
        }
        cache.disable()
    }

    /// Invalidates the room of `payload` if it is an event that changes access.
    func handle(_ payload: [UInt8]) {
        guard Self.mentionsMarker(payload) else { return }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: Data(payload)) else {
            logger.warning("Unreadable room event")
            return
        }
        guard let type = RoomEventType(rawValue: envelope.type), Self.invalidating.contains(type),
            let room = UUID(uuidString: envelope.roomId)
        else { return }
        cache.invalidate(room: room)
    }

    /// Whether one of ``markers`` occurs in `payload`: one pass over the bytes, comparing only
    /// where a marker's first byte is found (every message sent passes through here).
    static func mentionsMarker(_ payload: [UInt8]) -> Bool {
        payload.withUnsafeBufferPointer { bytes in
            for index in bytes.indices where bytes[index] == UInt8(ascii: "m") || bytes[index] == UInt8(ascii: "r") {
                for marker in markers where marker[0] == bytes[index] && marker.count <= bytes.count - index {
                    var offset = 1
                    while offset < marker.count && bytes[index + offset] == marker[offset] { offset += 1 }
                    if offset == marker.count { return true }
                }
            }
            return false
        }
    }

    /// The part of a ``RoomEvent`` this needs.
    private struct Envelope: Decodable {
        var type: String
        var roomId: String
    }
}
