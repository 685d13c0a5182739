import Foundation
import Hummingbird

// Voice: the socket events of WebRTC voice rooms (a peer-to-peer mesh), the records the signaling
// service keeps, and the calls gateways make to it. One definition for the gateway, the signaling
// service and the tests; the socket events are described in `asyncapi.json` with the others.

// MARK: - Opaque JSON

/// Any JSON value, kept as it came: what `voice:signal` relays between peers without reading it
/// (an SDP description or an ICE candidate).
public enum OpaqueJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([OpaqueJSON])
    case object([String: OpaqueJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([OpaqueJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: OpaqueJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            // Whole numbers stay whole (`sdpMLineIndex: 0`, not `0.0`).
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Whether the value is a JSON object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}

// MARK: - Shared pieces

/// How a voice room carries media. Only a peer-to-peer mesh for now; a media server later.
public enum VoiceMode: String, Codable, Sendable, CaseIterable {
    case mesh
}

/// Why a voice session ended, as `voice:user_left` says. The raw values are the wire names.
public enum VoiceLeaveReason: String, Codable, Sendable, CaseIterable {
    /// `voice:leave`, or the socket left the chat room.
    case left
    /// The socket went away (closed, or its gateway died).
    case disconnected
    /// The user joined voice elsewhere (another tab, another room): one voice session per user.
    case moved
    /// The user is no longer a member of the room.
    case kicked
    /// The room was deleted.
    case roomDeleted = "room_deleted"
}

/// A voice participant as every client sees them.
public struct VoiceParticipant: Codable, Sendable, Equatable {
    public var userId: String
    public var username: String
    public var sessionId: String
    public var muted: Bool
    public var deafened: Bool
    public var speaking: Bool

    public init(userId: String, username: String, sessionId: String, muted: Bool, deafened: Bool, speaking: Bool) {
        self.userId = userId
        self.username = username
        self.sessionId = sessionId
        self.muted = muted
        self.deafened = deafened
        self.speaking = speaking
    }
}

/// A STUN or TURN server for `RTCPeerConnection({iceServers})`. TURN entries carry time-limited
/// credentials (coturn's REST scheme: username `"<expiry>:<userId>"`, credential
/// `base64(HMAC-SHA1(secret, username))`).
public struct IceServer: Codable, Sendable, Equatable {
    public var urls: [String]
    public var username: String?
    public var credential: String?

    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls
        self.username = username
        self.credential = credential
    }
}

// MARK: - Client → server

/// `voice:join`: enter the room's voice (the socket must have joined the room with `room:join`).
public struct VoiceJoinRequest: Codable, Sendable, Equatable {
    public var roomId: String

    public init(roomId: String) { self.roomId = roomId }
}

/// The acknowledgement of `voice:join`. `participants` are the others already in the room's voice:
/// the newcomer offers a connection to each of them.
public struct VoiceJoinAck: Codable, Sendable, Equatable {
    public var roomId: String
    public var sessionId: String
    public var mode: VoiceMode
    public var participants: [VoiceParticipant]
    public var iceServers: [IceServer]

    public init(roomId: String, sessionId: String, mode: VoiceMode = .mesh, participants: [VoiceParticipant], iceServers: [IceServer]) {
        self.roomId = roomId
        self.sessionId = sessionId
        self.mode = mode
        self.participants = participants
        self.iceServers = iceServers
    }
}

/// `voice:signal`: a WebRTC message for one peer of the sender's voice room. `data` is relayed as
/// it is (at most ``maxDataBytes`` of JSON).
public struct VoiceSignalRequest: Codable, Sendable, Equatable {
    /// The largest `data` relayed, in bytes of JSON.
    public static let maxDataBytes = 64 * 1024

    /// The receiving session.
    public var to: String
    public var data: OpaqueJSON

    public init(to: String, data: OpaqueJSON) {
        self.to = to
        self.data = data
    }
}

/// `voice:state`: mute or deafen oneself (either, or both). Deafening does not mute; clients that
/// want Discord's "deafen also mutes" send both.
public struct VoiceStateRequest: Codable, Sendable, Equatable {
    public var roomId: String
    public var muted: Bool?
    public var deafened: Bool?

    public init(roomId: String, muted: Bool? = nil, deafened: Bool? = nil) {
        self.roomId = roomId
        self.muted = muted
        self.deafened = deafened
    }
}

/// `voice:speaking`: the client's voice activity detection started or stopped hearing its user.
public struct VoiceSpeakingRequest: Codable, Sendable, Equatable {
    public var roomId: String
    public var speaking: Bool

    public init(roomId: String, speaking: Bool) {
        self.roomId = roomId
        self.speaking = speaking
    }
}

// MARK: - Server → client

/// `voice:user_joined`: someone entered the room's voice.
public struct VoiceUserJoinedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var username: String
    public var sessionId: String
    public var muted: Bool
    public var deafened: Bool

    public init(roomId: String, userId: String, username: String, sessionId: String, muted: Bool, deafened: Bool) {
        self.roomId = roomId
        self.userId = userId
        self.username = username
        self.sessionId = sessionId
        self.muted = muted
        self.deafened = deafened
    }
}

/// `voice:user_left`: a voice session ended; peers close their connection to it.
public struct VoiceUserLeftEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var sessionId: String
    public var reason: VoiceLeaveReason

    public init(roomId: String, userId: String, sessionId: String, reason: VoiceLeaveReason) {
        self.roomId = roomId
        self.userId = userId
        self.sessionId = sessionId
        self.reason = reason
    }
}

/// `voice:signal` as delivered: from which session (and user) the message comes.
public struct VoiceSignalEvent: Codable, Sendable, Equatable {
    public var from: String
    public var userId: String
    public var data: OpaqueJSON

    public init(from: String, userId: String, data: OpaqueJSON) {
        self.from = from
        self.userId = userId
        self.data = data
    }
}

/// `voice:state_changed` (to the whole room, in voice or not), also the acknowledgement of `voice:state`.
public struct VoiceStateChangedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var sessionId: String
    public var muted: Bool
    public var deafened: Bool

    public init(roomId: String, userId: String, sessionId: String, muted: Bool, deafened: Bool) {
        self.roomId = roomId
        self.userId = userId
        self.sessionId = sessionId
        self.muted = muted
        self.deafened = deafened
    }
}

/// `voice:speaking` as the room hears it, also the acknowledgement of the client's `voice:speaking`.
public struct VoiceSpeakingEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var sessionId: String
    public var speaking: Bool

    public init(roomId: String, userId: String, sessionId: String, speaking: Bool) {
        self.roomId = roomId
        self.userId = userId
        self.sessionId = sessionId
        self.speaking = speaking
    }
}

// MARK: - The signaling service's records and calls

/// A voice session as the signaling service keeps it (in Redis) and publishes it in room events.
/// Which gateway and socket hold it is for the gateways only; clients see ``participant``.
public struct VoiceSession: ResponseCodable, Sendable, Equatable {
    public var sessionId: String
    public var roomId: String
    public var userId: String
    public var username: String
    public var gatewayId: String
    public var socketId: String
    public var muted: Bool
    public var deafened: Bool
    public var speaking: Bool
    public var joinedAt: Date

    public init(
        sessionId: String, roomId: String, userId: String, username: String, gatewayId: String, socketId: String,
        muted: Bool = false, deafened: Bool = false, speaking: Bool = false, joinedAt: Date = Date()
    ) {
        self.sessionId = sessionId
        self.roomId = roomId
        self.userId = userId
        self.username = username
        self.gatewayId = gatewayId
        self.socketId = socketId
        self.muted = muted
        self.deafened = deafened
        self.speaking = speaking
        self.joinedAt = joinedAt
    }

    /// What clients see of it.
    public var participant: VoiceParticipant {
        VoiceParticipant(userId: userId, username: username, sessionId: sessionId, muted: muted, deafened: deafened, speaking: speaking)
    }

    /// A session from the JSON the signaling service stores (a value of ``VoiceKeys/room(_:)``).
    public init(json: [UInt8], decoder: JSONDecoder = WireDateCoding.decoder()) throws {
        self = try decoder.decode(VoiceSession.self, from: Data(json))
    }

    /// The order of a room's sessions: oldest first; those that joined within the same second (the
    /// wire keeps whole seconds) by id.
    ///
    /// ```swift
    /// let sessions = try values.map { try VoiceSession(json: $0) }.sorted(by: VoiceSession.oldestFirst)
    /// ```
    public static func oldestFirst(_ first: VoiceSession, _ second: VoiceSession) -> Bool {
        (first.joinedAt, first.sessionId) < (second.joinedAt, second.sessionId)
    }
}

/// `POST /internal/v1/voice/sessions` (gateway → signaling, with the user's token): start the
/// user's voice session in a room for one of the gateway's sockets.
public struct VoiceSessionStart: Codable, Sendable, Equatable {
    public var roomId: String
    public var gatewayId: String
    public var socketId: String

    public init(roomId: String, gatewayId: String, socketId: String) {
        self.roomId = roomId
        self.gatewayId = gatewayId
        self.socketId = socketId
    }
}

/// The answer to ``VoiceSessionStart``: the new session, the others in the room's voice, the ICE
/// servers with fresh TURN credentials, and the session it replaced, if any (one per user).
public struct VoiceSessionStarted: ResponseCodable, Sendable, Equatable {
    public var session: VoiceSession
    public var others: [VoiceSession]
    public var iceServers: [IceServer]
    public var replaced: VoiceSession?

    public init(session: VoiceSession, others: [VoiceSession], iceServers: [IceServer], replaced: VoiceSession?) {
        self.session = session
        self.others = others
        self.iceServers = iceServers
        self.replaced = replaced
    }
}

/// `GET /internal/v1/voice/rooms/:id/sessions`: the sessions of a room's voice, oldest first.
public struct VoiceSessionList: ResponseCodable, Sendable, Equatable {
    public var sessions: [VoiceSession]

    public init(sessions: [VoiceSession]) { self.sessions = sessions }
}

/// `POST /internal/v1/voice/sessions/:id/end`: the session ends, for `reason`.
public struct VoiceSessionEnd: Codable, Sendable, Equatable {
    public var reason: VoiceLeaveReason

    public init(reason: VoiceLeaveReason) { self.reason = reason }
}

/// `PATCH /internal/v1/voice/sessions/:id`: mute, deafen or speaking flags to set (the others stay).
public struct VoiceSessionUpdate: Codable, Sendable, Equatable {
    public var muted: Bool?
    public var deafened: Bool?
    public var speaking: Bool?

    public init(muted: Bool? = nil, deafened: Bool? = nil, speaking: Bool? = nil) {
        self.muted = muted
        self.deafened = deafened
        self.speaking = speaking
    }
}

/// `GET /api/v1/rooms/:id/voice`: who is in the room's voice.
public struct RoomVoiceDTO: ResponseCodable, Sendable, Equatable {
    public var roomId: String
    public var mode: VoiceMode
    public var participants: [VoiceParticipant]

    public init(roomId: String, mode: VoiceMode = .mesh, participants: [VoiceParticipant]) {
        self.roomId = roomId
        self.mode = mode
        self.participants = participants
    }
}

/// What gateways publish to one another on ``channel(gatewayID:)``: a `voice:signal` for a session
/// the receiving gateway holds (relayed without a call to the signaling service).
public struct VoiceSignalRelay: Codable, Sendable, Equatable {
    /// The Redis channel a gateway reads the signals for its sessions from.
    public static func channel(gatewayID: String) -> String { "vf:voice:signals:" + gatewayID }

    /// The receiving session and its socket on that gateway.
    public var to: String
    public var socketId: String
    public var signal: VoiceSignalEvent
    /// When it was published (seconds since 1970), for the relay latency figure.
    public var publishedAt: Double?

    public init(to: String, socketId: String, signal: VoiceSignalEvent, publishedAt: Double? = nil) {
        self.to = to
        self.socketId = socketId
        self.signal = signal
        self.publishedAt = publishedAt
    }
}

/// The Redis keys of voice state that more than the signaling service reads: the signaling
/// service writes them all; gateways read a room's sessions (for `room:join`) and count relayed
/// signals. The hash tag puts them in one Redis Cluster slot.
public enum VoiceKeys {
    public static let prefix = "vf:{voice}:"
    /// Hash sessionId → ``VoiceSession`` (JSON): the sessions of a room's voice.
    public static func room(_ roomID: String) -> String { prefix + "room:" + roomID }
    /// How many signals gateways relayed.
    public static let signalsRelayed = prefix + "signals"
}
