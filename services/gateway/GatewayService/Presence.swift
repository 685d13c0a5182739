import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Presence in Redis, shared by every gateway.
///
/// - `vf:{presence}:user:<userId>`: hash socketId → "<gatewayId>|<status>" (one field per open socket).
/// - `vf:{presence}:rooms:<socketId>`: the rooms a socket has joined.
/// - `vf:{presence}:room:<roomId>`: hash userId → number of that user's sockets in the room.
/// - `vf:{presence}:gateway:<gatewayId>`: the gateway's sockets ("userId|socketId").
/// - `vf:{presence}:alive`: hash gatewayId → until when (Unix ms) the gateway counts as alive; each
///   heartbeat moves it on by the presence TTL.
/// - `vf:{presence}:gateways`: every gateway that registered sockets.
///
/// A socket counts only while its gateway is alive, so a killed gateway's users turn offline for
/// everyone as soon as its time runs out; the ``PresenceHeartbeat`` sweep then removes its records
/// and tells the rooms. Every script declares the keys it touches in KEYS, and the hash tag puts
/// them all in one Redis Cluster slot (the status script reads many users at once).
struct PresenceStore: Sendable {
    let redis: RedisClient
    let gatewayID: String
    let ttl: Duration

    static let prefix = PresenceKeys.prefix
    static let aliveKey = PresenceKeys.alive
    static let gatewaysKey = prefix + "gateways"
    static func userKey(_ userID: String) -> String { PresenceKeys.user(userID) }
    static func roomsKey(_ socketID: String) -> String { prefix + "rooms:" + socketID }
    static func roomKey(_ roomID: String) -> String { prefix + "room:" + roomID }
    static func gatewayKey(_ gatewayID: String) -> String { prefix + "gateway:" + gatewayID }

    /// The effective status of each user (KEYS[2...]): the best status among their sockets on
    /// gateways alive now (KEYS[1], the alive hash).
    static let statusScript = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local alive = {}
        local result = {}
        for i = 2, #KEYS do
          local best, bestRank = 'offline', 0
          local fields = redis.call('HGETALL', KEYS[i])
          for j = 1, #fields, 2 do
            local gateway, status = string.match(fields[j + 1], '^([^|]*)|(.*)$')
            if gateway and alive[gateway] == nil then
              alive[gateway] = tonumber(redis.call('HGET', KEYS[1], gateway) or '0') > now
            end
            if gateway and alive[gateway] then
              local rank = ({in_call = 3, online = 2, away = 1})[status] or 0
              if rank > bestRank then best, bestRank = status, rank end
            end
          end
          result[i - 1] = best
        end
        return result
        """)

    /// Moves this gateway's alive time on by the TTL (KEYS[1] the alive hash, KEYS[2] the
    /// gateways set; ARGV: gateway id, TTL in ms).
    static let heartbeatScript = RedisScript(
        """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
        redis.call('SADD', KEYS[2], ARGV[1])
        return now
        """)

    /// Refreshes this gateway's alive time.
    func heartbeat() async throws(RedisError) {
        _ = try await redis.eval(
            Self.heartbeatScript, keys: [Self.aliveKey, Self.gatewaysKey], arguments: [gatewayID, String(ttl.wholeMilliseconds)])
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
        let reply = try await redis.eval(Self.statusScript, keys: [Self.aliveKey] + userIDs.map(Self.userKey), arguments: [])
        return (reply.array ?? []).map { PresenceStatus(rawValue: $0.string ?? "") ?? .offline }
    }

    /// The rooms any of the user's sockets has joined, on any gateway.
    func rooms(ofUser userID: String) async throws(RedisError) -> [String] {
        let sockets = try await redis.send(["HKEYS", Self.userKey(userID)]).array?.compactMap(\.string) ?? []
        guard !sockets.isEmpty else { return [] }
        let reply = try await redis.send(["SUNION"] + sockets.map(Self.roomsKey))
        return reply.array?.compactMap(\.string) ?? []
    }

    /// The rooms a socket has joined, as recorded.
    func rooms(ofSocket socketID: String) async throws(RedisError) -> [String] {
        try await redis.send(["SMEMBERS", Self.roomsKey(socketID)]).array?.compactMap(\.string) ?? []
    }

    /// Gateways that registered sockets but stopped heartbeating.
    func deadGateways() async throws(RedisError) -> [String] {
        let replies = try await redis.pipeline([["SMEMBERS", Self.gatewaysKey], ["HGETALL", Self.aliveKey], ["TIME"]])
        let gateways = replies[0].array?.compactMap(\.string) ?? []
        let fields = replies[1].array?.compactMap(\.string) ?? []
        let time = replies[2].array?.compactMap(\.string).compactMap { Int64($0) } ?? []
        guard time.count == 2 else { return [] }
        let now = time[0] * 1000 + time[1] / 1000
        var aliveUntil: [String: Int64] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { aliveUntil[fields[index]] = Int64(fields[index + 1]) ?? 0 }
        return gateways.filter { $0 != gatewayID && (aliveUntil[$0] ?? 0) <= now }
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
        _ = try await redis.pipeline([
            ["DEL", Self.gatewayKey(gateway)], ["SREM", Self.gatewaysKey, gateway], ["HDEL", Self.aliveKey, gateway],
        ])
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
