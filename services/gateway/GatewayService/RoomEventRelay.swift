import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Brings the events the rooms and messages services publish (on `vf:room:<id>`) to this
/// gateway's sockets. The gateway subscribes to a room's channel while one of its sockets has the
/// room open, and only then. Run it as a `Service`.
final class RoomEventRelay: Service, Sendable {
    private let subscriber: RedisSubscriber
    let namespace: Namespace
    let presence: PresenceStore
    private let logger: Logger
    private struct Entry {
        var subscription: RedisSubscription?
        var users = 0
    }
    private let rooms = Mutex<[String: Entry]>([:])
    private let readers: AsyncStream<(String, RedisSubscription)>
    private let readersContinuation: AsyncStream<(String, RedisSubscription)>.Continuation

    init(subscriber: RedisSubscriber, namespace: Namespace, presence: PresenceStore, logger: Logger) {
        self.subscriber = subscriber
        self.namespace = namespace
        self.presence = presence
        self.logger = logger
        (readers, readersContinuation) = AsyncStream.makeStream()
    }

    /// The Socket.IO room of a chat room.
    static func socketRoom(_ roomID: String) -> String { "room:" + roomID }

    /// Holds the room's channel open for one more socket; returns once subscribed.
    func retain(_ roomID: String) async throws(GatewayError) {
        let isFirst = rooms.withLock { rooms -> Bool in
            rooms[roomID, default: Entry()].users += 1
            return rooms[roomID]!.users == 1
        }
        guard isFirst, let id = UUID(uuidString: roomID) else { return }
        do {
            let subscription = try await subscriber.subscribe([RoomEvent.channel(for: id)])
            let keep = rooms.withLock { rooms -> Bool in
                guard rooms[roomID] != nil else { return false }
                rooms[roomID]!.subscription = subscription
                return true
            }
            if keep { readersContinuation.yield((roomID, subscription)) } else { await subscription.unsubscribe() }
        } catch {
            _ = rooms.withLock { $0.removeValue(forKey: roomID) }
            logger.error("Room channel subscription failed", metadata: ["room.id": "\(roomID)"])
            throw GatewayError.unavailable
        }
    }

    /// Lets go of the room's channel for one socket; unsubscribes after the last.
    func release(_ roomID: String) async {
        let subscription = rooms.withLock { rooms -> RedisSubscription? in
            guard var entry = rooms[roomID] else { return nil }
            entry.users -= 1
            if entry.users <= 0 {
                rooms[roomID] = nil
                return entry.subscription
            }
            rooms[roomID] = entry
            return nil
        }
        await subscription?.unsubscribe()
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await (roomID, subscription) in readers {
                    group.addTask {
                        for await message in subscription { await self.handle(message.payload, roomID: roomID) }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.readersContinuation.finish()
        }
    }

    private func handle(_ payload: [UInt8], roomID: String) async {
        let decoder = WireDateCoding.decoder()
        guard let event = try? decoder.decode(RoomEvent.self, from: Data(payload)), event.version == RoomEvent.currentVersion else {
            logger.warning("Unreadable room event", metadata: ["room.id": "\(roomID)"])
            return
        }
        let sockets = namespace.to(Self.socketRoom(roomID)).localSockets
        let sessions = sockets.compactMap { $0.data as? ChatSession }
        switch event.type {
        case .messageCreated:
            guard let message = event.message else { return }
            for session in sessions { await session.deliver(message) }
        case .messageEdited:
            emit("message:edited", ["message": value(event.message)], to: sockets)
        case .messageDeleted:
            emit("message:deleted", ["roomId": .string(roomID), "message": value(event.message)], to: sockets)
        case .memberJoined:
            emit("room:member_joined", ["roomId": .string(roomID), "member": value(event.member)], to: sockets)
        case .memberRoleChanged:
            emit("room:member_role_changed", ["roomId": .string(roomID), "member": value(event.member)], to: sockets)
        case .roomUpdated:
            emit("room:updated", ["roomId": .string(roomID), "room": value(event.room)], to: sockets)
        case .memberLeft, .memberKicked:
            guard let userID = event.userId else { return }
            let kicked = event.type == .memberKicked
            let name = kicked ? "room:member_kicked" : "room:member_left"
            for session in sessions {
                if session.userID == userID {
                    // That user is no longer a member: their sockets leave the room on every gateway.
                    session.socket.emit(kicked ? "room:kicked" : "room:left", [["roomId": .string(roomID)]])
                    await GatewayEvents.closeRoom(roomID, for: session, relay: self)
                } else {
                    session.socket.emit(name, [["roomId": .string(roomID), "userId": .string(userID)]])
                }
            }
        case .roomDeleted:
            for session in sessions {
                session.socket.emit("room:deleted", [["roomId": .string(roomID)]])
                await GatewayEvents.closeRoom(roomID, for: session, relay: self)
            }
        case .roomCreated:
            break
        }
    }

    private func value(_ encodable: (some Encodable)?) -> SocketIOValue {
        guard let encodable, let value = try? SocketIOValue(encoding: encodable) else { return .null }
        return value
    }

    private func emit(_ event: String, _ payload: SocketIOValue, to sockets: [Socket]) {
        for socket in sockets { socket.emit(event, [payload]) }
    }

}
