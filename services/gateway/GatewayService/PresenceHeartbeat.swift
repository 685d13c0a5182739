import AsyncHTTPClient
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Keeps this gateway marked alive in Redis, and sweeps gateways that died: their users' sockets
/// are removed, and rooms hear `room:user_left` for users left with no socket in them and
/// `user:presence_changed` with each such user's status from their remaining sockets (offline when
/// none is left). Run it as a `Service`.
struct PresenceHeartbeat: Service {
    let presence: PresenceStore
    let namespace: Namespace
    let logger: Logger
    var announcer: PresenceAnnouncer { PresenceAnnouncer(presence: presence, namespace: namespace) }

    func run() async throws {
        let period = presence.ttl / 3
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await presence.heartbeat()
                    try await sweep()
                } catch {
                    logger.warning("Presence heartbeat failed", metadata: ["error.type": "\(type(of: error))"])
                }
                try? await Task.sleep(for: period)
            }
        }
    }

    private func sweep() async throws {
        for gateway in try await presence.deadGateways() where try await presence.claim(deadGateway: gateway) {
            let sockets = try await presence.sockets(of: gateway)
            logger.notice("Sweeping a dead gateway", metadata: ["gateway.id": "\(gateway)", "sockets": "\(sockets.count)"])
            for (userID, socketID) in sockets {
                let rooms = try await presence.redis.send(["SMEMBERS", PresenceStore.roomsKey(socketID)]).array?.compactMap(\.string) ?? []
                for roomID in rooms where try await presence.leave(roomID: roomID, userID: userID, socketID: socketID) == 0 {
                    await namespace.to(RoomEventRelay.socketRoom(roomID)).emit(.userLeft(UserLeftEvent(roomId: roomID, userId: userID)))
                }
                let (_, status) = try await presence.disconnect(userID: userID, socketID: socketID, gatewayID: gateway)
                // What the rooms last heard is unknown (the sockets stopped counting when the
                // gateway's alive key expired): say the status as it is now.
                await announcer.announce(userID: userID, status: status, previous: nil, alsoTo: rooms)
            }
            try await presence.forget(gateway: gateway)
        }
    }
}

/// Shuts the HTTP client down when the service group stops.
struct HTTPClientShutdown: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
