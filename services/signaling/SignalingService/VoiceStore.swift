import Foundation
import VoiceFlowCommon
import VoiceFlowRedis

/// Voice sessions in Redis, shared by every signaling instance.
///
/// - `vf:{voice}:room:<roomId>`: hash sessionId → the session (``VoiceSession`` as JSON).
/// - `vf:{voice}:session:<sessionId>`: the session's room id.
/// - `vf:{voice}:user:<userId>`: the user's one voice session.
/// - `vf:{voice}:gateway:<gatewayId>`: the gateway's sessions (`"<roomId>|<sessionId>"`).
/// - `vf:{voice}:gateways`: gateways that hold (or held) sessions, for the sweep.
/// - `vf:{voice}:signals`: how many signals gateways relayed (they count them).
///
/// Every change is one script that declares its keys; the hash tag puts them in one Redis Cluster slot.
struct VoiceStore: Sendable {
    let redis: RedisClient

    static let prefix = VoiceKeys.prefix
    static let gatewaysKey = prefix + "gateways"
    static let signalsKey = VoiceKeys.signalsRelayed
    /// A key of the slot that is never written: the stand-in for keys a script does not need.
    static let unusedKey = prefix + "unused"
    static func roomKey(_ roomID: String) -> String { VoiceKeys.room(roomID) }
    static func sessionKey(_ sessionID: String) -> String { prefix + "session:" + sessionID }
    static func userKey(_ userID: String) -> String { prefix + "user:" + userID }
    static func gatewayKey(_ gatewayID: String) -> String { prefix + "gateway:" + gatewayID }

    /// What ``start(_:maxParticipants:)`` did.
    enum StartOutcome: Sendable, Equatable {
        /// The session is in; `others` were there already; `replaced` is the user's previous session, now ended.
        case started(others: [VoiceSession], replaced: VoiceSession?)
        /// The room's voice is full.
        case full
    }

    /// Adds a session, ending the user's previous one (one voice session per user), unless the
    /// room already has `maxParticipants` others. KEYS: user, room, session, gateway, gateways,
    /// then the previous session's room, session and gateway keys. ARGV: session id, its JSON, the
    /// previous session id expected ('' for none), the cap, gateway id, room id, previous room id.
    /// Answers `{'retry'}` when the user's session changed since it was read.
    static let startScript = RedisScript(
        """
        local current = redis.call('GET', KEYS[1]) or ''
        if current ~= ARGV[3] then return {'retry'} end
        local previous = false
        if current ~= '' then previous = redis.call('HGET', KEYS[6], current) end
        local count = redis.call('HLEN', KEYS[2])
        if previous and KEYS[6] == KEYS[2] then count = count - 1 end
        if count >= tonumber(ARGV[4]) then return {'full'} end
        if current ~= '' then
          redis.call('HDEL', KEYS[6], current)
          redis.call('DEL', KEYS[7])
          redis.call('SREM', KEYS[8], ARGV[7] .. '|' .. current)
        end
        local others = redis.call('HVALS', KEYS[2])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
        redis.call('SET', KEYS[3], ARGV[6])
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SADD', KEYS[4], ARGV[6] .. '|' .. ARGV[1])
        redis.call('SADD', KEYS[5], ARGV[5])
        return {'ok', previous or '', unpack(others)}
        """)

    /// Removes a session if it still exists; returns its JSON. KEYS: room, session, user, gateway.
    /// ARGV: session id, room id.
    static let endScript = RedisScript(
        """
        local json = redis.call('HGET', KEYS[1], ARGV[1])
        if not json then return false end
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2])
        if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
        redis.call('SREM', KEYS[4], ARGV[2] .. '|' .. ARGV[1])
        return json
        """)

    /// Sets flags of a session ('' leaves one as it is); returns `{json, state changed, speaking
    /// changed}` (1 or 0). KEYS: room. ARGV: session id, muted, deafened, speaking.
    static let updateScript = RedisScript(
        """
        local json = redis.call('HGET', KEYS[1], ARGV[1])
        if not json then return false end
        local session = cjson.decode(json)
        local changed = {0, 0, 0}
        local names = {'muted', 'deafened', 'speaking'}
        for i = 1, 3 do
          local value = ARGV[i + 1]
          if value ~= '' then
            local flag = value == 'true'
            if session[names[i]] ~= flag then
              session[names[i]] = flag
              changed[i] = 1
            end
          end
        end
        local state = math.max(changed[1], changed[2])
        if state == 1 or changed[3] == 1 then
          json = cjson.encode(session)
          redis.call('HSET', KEYS[1], ARGV[1], json)
        end
        return {json, state, changed[3]}
        """)

    /// Forgets a gateway that holds no session any more. KEYS: gateway, gateways. ARGV: gateway id.
    static let forgetGatewayScript = RedisScript(
        """
        if redis.call('SCARD', KEYS[1]) == 0 then
          redis.call('SREM', KEYS[2], ARGV[1])
          return 1
        end
        return 0
        """)

    // MARK: Reading

    /// A session by id.
    func session(_ sessionID: String) async throws -> VoiceSession? {
        guard let roomID = try await redis.send("GET", Self.sessionKey(sessionID)).string else { return nil }
        return try await session(sessionID, in: roomID)
    }

    /// A session of a known room.
    func session(_ sessionID: String, in roomID: String) async throws -> VoiceSession? {
        guard let json = try await redis.send("HGET", Self.roomKey(roomID), sessionID).bytes else { return nil }
        return try VoiceSession(json: json)
    }

    /// The user's voice session.
    func session(ofUser userID: String) async throws -> VoiceSession? {
        guard let sessionID = try await redis.send("GET", Self.userKey(userID)).string else { return nil }
        return try await session(sessionID)
    }

    /// Every session of a room's voice, oldest first.
    func sessions(inRoom roomID: String) async throws -> [VoiceSession] {
        let values = try await redis.send("HVALS", Self.roomKey(roomID)).array ?? []
        return try values.compactMap(\.bytes).map { try VoiceSession(json: $0) }.sorted(by: VoiceSession.oldestFirst)
    }

    /// Gateways that held sessions.
    func gateways() async throws -> [String] {
        (try await redis.send("SMEMBERS", Self.gatewaysKey).array ?? []).compactMap(\.string)
    }

    /// The sessions a gateway holds.
    func sessions(onGateway gatewayID: String) async throws -> [VoiceSession] {
        let members = (try await redis.send("SMEMBERS", Self.gatewayKey(gatewayID)).array ?? []).compactMap(\.string)
        let pairs = members.compactMap { member -> (room: String, session: String)? in
            let parts = member.split(separator: "|", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
        guard !pairs.isEmpty else { return [] }
        let replies = try await redis.pipeline(pairs.map { ["HGET", Self.roomKey($0.room), $0.session] })
        var sessions: [VoiceSession] = []
        for (index, reply) in replies.enumerated() {
            if let json = reply.bytes {
                sessions.append(try VoiceSession(json: json))
            } else {
                // A member whose session is gone (ended half-way elsewhere): tidy it.
                _ = try? await redis.send("SREM", Self.gatewayKey(gatewayID), pairs[index].room + "|" + pairs[index].session)
            }
        }
        return sessions
    }

    /// Signals relayed by every gateway so far.
    func signalsRelayed() async throws -> Int {
        try await redis.send("GET", Self.signalsKey).int ?? 0
    }

    // MARK: Changing

    /// Adds `session` for its user (ending their previous one), unless the room is full.
    func start(_ session: VoiceSession, maxParticipants: Int) async throws -> StartOutcome {
        let json = String(decoding: try WireDateCoding.encoder().encode(session), as: UTF8.self)
        for _ in 0..<8 {
            let expected = try await redis.send("GET", Self.userKey(session.userId)).string ?? ""
            let previous = expected.isEmpty ? nil : try await self.session(expected)
            let keys = [
                Self.userKey(session.userId), Self.roomKey(session.roomId), Self.sessionKey(session.sessionId),
                Self.gatewayKey(session.gatewayId), Self.gatewaysKey,
                previous.map { Self.roomKey($0.roomId) } ?? Self.unusedKey,
                expected.isEmpty ? Self.unusedKey : Self.sessionKey(expected),
                previous.map { Self.gatewayKey($0.gatewayId) } ?? Self.unusedKey,
            ]
            let reply = try await redis.eval(
                Self.startScript, keys: keys,
                arguments: [
                    session.sessionId, json, expected, String(maxParticipants), session.gatewayId, session.roomId,
                    previous?.roomId ?? "",
                ])
            let values = reply.array ?? []
            switch values.first?.string {
            case "ok"?:
                let replaced = try values.dropFirst().first?.bytes.flatMap { $0.isEmpty ? nil : try VoiceSession(json: $0) }
                let others = try values.dropFirst(2).compactMap(\.bytes).map { try VoiceSession(json: $0) }.sorted(by: VoiceSession.oldestFirst)
                return .started(others: others, replaced: replaced)
            case "full"?:
                return .full
            default:
                continue
            }
        }
        throw VoiceStoreError.contended
    }

    /// Ends a session; returns it, or nil when it had ended already.
    func end(_ sessionID: String) async throws -> VoiceSession? {
        guard let session = try await session(sessionID) else { return nil }
        let reply = try await redis.eval(
            Self.endScript,
            keys: [
                Self.roomKey(session.roomId), Self.sessionKey(sessionID), Self.userKey(session.userId), Self.gatewayKey(session.gatewayId),
            ],
            arguments: [sessionID, session.roomId])
        guard let json = reply.bytes else { return nil }
        return try VoiceSession(json: json)
    }

    /// What ``update(_:in:_:)`` changed.
    struct Updated: Sendable {
        /// The session as it is now.
        var session: VoiceSession
        /// Mute or deafen changed.
        var stateChanged: Bool
        /// Speaking changed.
        var speakingChanged: Bool
    }

    /// Applies `update` to a session; nil when it does not exist.
    func update(_ sessionID: String, in roomID: String, _ update: VoiceSessionUpdate) async throws -> Updated? {
        func flag(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "" }
        let reply = try await redis.eval(
            Self.updateScript, keys: [Self.roomKey(roomID)],
            arguments: [sessionID, flag(update.muted), flag(update.deafened), flag(update.speaking)])
        guard let values = reply.array, values.count == 3, let json = values[0].bytes else { return nil }
        return Updated(session: try VoiceSession(json: json), stateChanged: values[1].int == 1, speakingChanged: values[2].int == 1)
    }

    /// Forgets a gateway if it holds no session.
    func forgetGatewayIfEmpty(_ gatewayID: String) async throws {
        _ = try await redis.eval(Self.forgetGatewayScript, keys: [Self.gatewayKey(gatewayID), Self.gatewaysKey], arguments: [gatewayID])
    }
}

/// The store could not apply a change (the user's session kept changing under it).
enum VoiceStoreError: Error {
    case contended
}
