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
///
/// Every `reconcilePeriod` it also brings this gateway's own records back in line with its
/// sockets (``PresenceReconciler``), so that presence recovers from a Redis call that failed.
struct PresenceHeartbeat: Service {
    let presence: PresenceStore
    let namespace: Namespace
    var reconcilePeriod: Duration = .seconds(15)
    let logger: Logger
    var announcer: PresenceAnnouncer { PresenceAnnouncer(presence: presence, namespace: namespace) }

    func run() async throws {
        let period = presence.ttl / 3
        let reconciler = PresenceReconciler(presence: presence)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // The heartbeat alone in its loop: a long sweep or reconciliation must not delay it
                // past the TTL (this gateway would then count as dead).
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await presence.heartbeat()
                        } catch {
                            logger.warning("Presence heartbeat failed", metadata: ["error.type": "\(type(of: error))"])
                        }
                        try? await Task.sleep(for: period)
                    }
                }
                group.addTask {
                    var lastReconcile = ContinuousClock.now
                    while !Task.isCancelled {
                        do {
                            try await sweep()
                            if ContinuousClock.now - lastReconcile >= reconcilePeriod {
                                lastReconcile = .now
                                try await reconcile(reconciler)
                            }
                        } catch {
                            logger.warning("Presence sweep failed", metadata: ["error.type": "\(type(of: error))"])
                        }
                        try? await Task.sleep(for: period)
                    }
                }
            }
        }
    }

    /// Tells a room that the user has no socket left in it.
    private func userLeft(_ userID: String, _ roomID: String) async {
        await namespace.to(RoomEventRelay.socketRoom(roomID)).emit(.userLeft(UserLeftEvent(roomId: roomID, userId: userID)))
    }

    /// One reconciliation pass over this gateway's sockets; the rooms hear what changed.
    func reconcile(_ reconciler: PresenceReconciler) async throws {
        var sockets: [PresenceReconciler.LocalSocket] = []
        for socket in namespace.localSockets {
            guard let session = socket.data as? ChatSession else { continue }
            sockets.append(
                .init(userID: session.userID, socketID: socket.id, username: session.user.username, rooms: Set(await session.joinedRooms)))
        }
        for repair in try await reconciler.reconcile(local: sockets) {
            logger.notice("Presence record repaired", metadata: ["repair": "\(repair)"])
            switch repair {
            case .removedSocket(let userID, _, let rooms, let leftRooms):
                for roomID in leftRooms {
                    await userLeft(userID, roomID)
                }
                let status = try await presence.status(of: [userID]).first ?? .offline
                await announcer.announce(userID: userID, status: status, previous: nil, alsoTo: rooms)
            case .recordedSocket(let userID, _):
                let status = try await presence.status(of: [userID]).first ?? .online
                await announcer.announce(userID: userID, status: status, previous: nil)
            case .leftRoom(let userID, let roomID, let remaining):
                if remaining == 0 {
                    await userLeft(userID, roomID)
                }
            case .joinedRoom(let userID, let username, let roomID, let count):
                if count == 1 {
                    let status = try await presence.status(of: [userID]).first ?? .online
                    await namespace.to(RoomEventRelay.socketRoom(roomID)).except(GatewayEvents.userRoom(userID)).emit(
                        .userJoined(UserJoinedEvent(roomId: roomID, userId: userID, username: username, status: status)))
                }
            }
        }
    }

    private func sweep() async throws {
        for gateway in try await presence.deadGateways() where try await presence.claim(deadGateway: gateway) {
            let sockets = try await presence.sockets(of: gateway)
            logger.notice("Sweeping a dead gateway", metadata: ["gateway.id": "\(gateway)", "sockets": "\(sockets.count)"])
            for (userID, socketID) in sockets {
                let rooms = try await presence.rooms(ofSocket: socketID)
                for roomID in rooms where try await presence.leave(roomID: roomID, userID: userID, socketID: socketID) == 0 {
                    await userLeft(userID, roomID)
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
