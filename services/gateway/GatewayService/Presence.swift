import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Presence in Redis, shared by every gateway.
///
/// - `vf:presence:user:<userId>`: hash socketId → "<gatewayId>|<status>" (one field per open socket).
/// - `vf:presence:rooms:<socketId>`: the rooms a socket has joined.
/// - `vf:presence:room:<roomId>`: hash userId → number of that user's sockets in the room.
/// - `vf:presence:gateway:<gatewayId>`: the gateway's sockets ("userId|socketId").
/// - `vf:presence:alive:<gatewayId>`: exists while the gateway heartbeats (it expires otherwise).
/// - `vf:presence:gateways`: every gateway that registered sockets.
///
/// A socket counts only while its gateway's alive key exists, so a killed gateway's users turn
/// offline for everyone as soon as the key expires; the ``PresenceHeartbeat`` sweep then removes its
/// records and tells the rooms.
struct PresenceStore: Sendable {
    let redis: RedisClient
    let gatewayID: String
    let ttl: Duration

    static let prefix = "vf:presence:"
    var aliveKey: String { Self.prefix + "alive:" + gatewayID }
    static func userKey(_ userID: String) -> String { prefix + "user:" + userID }
    static func roomsKey(_ socketID: String) -> String { prefix + "rooms:" + socketID }
    static func roomKey(_ roomID: String) -> String { prefix + "room:" + roomID }
    static func gatewayKey(_ gatewayID: String) -> String { prefix + "gateway:" + gatewayID }

    /// The effective status of each user: the best status among their sockets on live gateways.
    static let statusScript = RedisScript(
        """
        local alivePrefix = ARGV[1]
        local result = {}
        for i, key in ipairs(KEYS) do
          local best, bestRank = 'offline', 0
          local fields = redis.call('HGETALL', key)
          for j = 1, #fields, 2 do
            local gateway, status = string.match(fields[j + 1], '^([^|]*)|(.*)$')
            if gateway and redis.call('EXISTS', alivePrefix .. gateway) == 1 then
              local rank = ({in_call = 3, online = 2, away = 1})[status] or 0
              if rank > bestRank then best, bestRank = status, rank end
            end
          end
          result[i] = best
        end
        return result
        """)

    /// Refreshes this gateway's alive key.
    func heartbeat() async throws(RedisError) {
        let milliseconds = EngineMillis.of(ttl)
        _ = try await redis.pipeline([
            ["SET", aliveKey, "1", "PX", String(milliseconds)],
            ["SADD", Self.prefix + "gateways", gatewayID],
        ])
    }

    /// Records a new socket (online).
    func connect(userID: String, socketID: String) async throws(RedisError) {
        _ = try await redis.pipeline([
            ["HSET", Self.userKey(userID), socketID, "\(gatewayID)|online"],
            ["SADD", Self.gatewayKey(gatewayID), "\(userID)|\(socketID)"],
        ])
    }

    /// Sets a socket's status.
    func setStatus(_ status: PresenceStatus, userID: String, socketID: String) async throws(RedisError) {
        _ = try await redis.send(["HSET", Self.userKey(userID), socketID, "\(gatewayID)|\(status.rawValue)"])
    }

    /// Counts a socket into a room, once: a user's count per room moves only when the socket's own
    /// set of rooms changed, so repeated or racing joins and leaves never skew it.
    static let joinScript = RedisScript(
        """
        if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
          return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
        end
        return tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
        """)

    /// Counts a socket out of a room, once (see ``joinScript``); a count that reaches 0 is removed.
    static let leaveScript = RedisScript(
        """
        if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
          local remaining = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
          if remaining <= 0 then
            redis.call('HDEL', KEYS[2], ARGV[2])
            return 0
          end
          return remaining
        end
        return tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
        """)

    /// Notes that a socket joined a room; returns how many of the user's sockets are now in it.
    func join(roomID: String, userID: String, socketID: String) async throws(RedisError) -> Int {
        let reply = try await redis.eval(
            Self.joinScript, keys: [Self.roomsKey(socketID), Self.roomKey(roomID)], arguments: [roomID, userID])
        return reply.int ?? 1
    }

    /// Notes that a socket left a room; returns how many of the user's sockets are still in it.
    func leave(roomID: String, userID: String, socketID: String) async throws(RedisError) -> Int {
        let reply = try await redis.eval(
            Self.leaveScript, keys: [Self.roomsKey(socketID), Self.roomKey(roomID)], arguments: [roomID, userID])
        return max(reply.int ?? 0, 0)
    }

    /// Forgets a socket on `gatewayID`; returns the rooms it was in and the user's status afterwards.
    func disconnect(userID: String, socketID: String, gatewayID: String? = nil) async throws(RedisError)
        -> (rooms: [String], status: PresenceStatus)
    {
        let gateway = gatewayID ?? self.gatewayID
        let replies = try await redis.pipeline([
            ["SMEMBERS", Self.roomsKey(socketID)],
            ["DEL", Self.roomsKey(socketID)],
            ["HDEL", Self.userKey(userID), socketID],
            ["SREM", Self.gatewayKey(gateway), "\(userID)|\(socketID)"],
        ])
        let rooms = replies.first?.array?.compactMap(\.string) ?? []
        return (rooms, try await status(of: [userID]).first ?? .offline)
    }

    /// The effective status of each user.
    func status(of userIDs: [String]) async throws(RedisError) -> [PresenceStatus] {
        guard !userIDs.isEmpty else { return [] }
        let reply = try await redis.eval(
            Self.statusScript, keys: userIDs.map(Self.userKey), arguments: [Self.prefix + "alive:"])
        return (reply.array ?? []).map { PresenceStatus(rawValue: $0.string ?? "") ?? .offline }
    }

    /// Every room any of the user's sockets (on any gateway) has joined.
    static let userRoomsScript = RedisScript(
        """
        local sockets = redis.call('HKEYS', KEYS[1])
        if #sockets == 0 then return {} end
        local keys = {}
        for i, socket in ipairs(sockets) do keys[i] = ARGV[1] .. socket end
        return redis.call('SUNION', unpack(keys))
        """)

    /// The rooms any of the user's sockets has joined, on any gateway.
    func rooms(ofUser userID: String) async throws(RedisError) -> [String] {
        let reply = try await redis.eval(Self.userRoomsScript, keys: [Self.userKey(userID)], arguments: [Self.prefix + "rooms:"])
        return reply.array?.compactMap(\.string) ?? []
    }

    /// Gateways that registered sockets but stopped heartbeating.
    func deadGateways() async throws(RedisError) -> [String] {
        let gateways = try await redis.send(["SMEMBERS", Self.prefix + "gateways"]).array?.compactMap(\.string) ?? []
        var dead: [String] = []
        for gateway in gateways where gateway != gatewayID {
            if try await redis.send(["EXISTS", Self.prefix + "alive:" + gateway]).int == 0 { dead.append(gateway) }
        }
        return dead
    }

    /// Claims the cleanup of a dead gateway (one sweeper wins).
    func claim(deadGateway: String) async throws(RedisError) -> Bool {
        let reply = try await redis.send(["SET", Self.prefix + "sweep:" + deadGateway, gatewayID, "NX", "PX", "30000"])
        return reply.string == "OK"
    }

    /// The sockets a gateway had ("userId|socketId").
    func sockets(of gateway: String) async throws(RedisError) -> [(userID: String, socketID: String)] {
        let members = try await redis.send(["SMEMBERS", Self.gatewayKey(gateway)]).array?.compactMap(\.string) ?? []
        return members.compactMap { member in
            let parts = member.split(separator: "|", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }

    /// Forgets a gateway once its sockets are swept.
    func forget(gateway: String) async throws(RedisError) {
        _ = try await redis.pipeline([["DEL", Self.gatewayKey(gateway)], ["SREM", Self.prefix + "gateways", gateway]])
    }
}

/// Tells rooms a user's effective status: every room any of the user's sockets is in, on any
/// gateway, plus the rooms a socket that just went away was in.
struct PresenceAnnouncer: Sendable {
    let presence: PresenceStore
    let namespace: Namespace

    /// Announces `status` when it differs from `previous` (always when `previous` is `nil`).
    func announce(userID: String, status: PresenceStatus, previous: PresenceStatus?, alsoTo extraRooms: [String] = []) async {
        guard status != previous else { return }
        var rooms = Set(extraRooms)
        if let current = try? await presence.rooms(ofUser: userID) { rooms.formUnion(current) }
        guard let first = rooms.first else { return }
        var target = namespace.to(RoomEventRelay.socketRoom(first))
        for room in rooms.dropFirst() { target = target.to(RoomEventRelay.socketRoom(room)) }
        await target.emit(.presenceChanged(PresenceChangedEvent(userId: userID, status: status)))
    }
}

/// Milliseconds of a duration.
enum EngineMillis {
    static func of(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
