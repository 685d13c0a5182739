import Foundation

// The socket protocol: every event a client and the gateway exchange over Socket.IO, with its
// payload and acknowledgement types. One definition for the gateway and the tests; its
// machine-readable description, `libs/Common/Resources/asyncapi.json` (served at
// `/api/v1/asyncapi.json`), is checked against it by SocketProtocolDocumentTests, and the
// end-to-end tests check every event they receive against that. Dates are ISO 8601
// (``WireDateCoding``); ids are lowercase UUIDs.

// MARK: - Shared pieces

/// A user's presence: what the others see. The raw values are the wire names.
public enum PresenceStatus: String, Codable, Sendable, CaseIterable {
    case inCall = "in_call"
    case online
    case away
    case offline

    /// Which wins when a user's sockets disagree (one tab in a call makes the user "in call").
    public var rank: Int {
        switch self {
        case .inCall: return 3
        case .online: return 2
        case .away: return 1
        case .offline: return 0
        }
    }

    /// What a client may set with `presence:update`.
    public static let settable: [PresenceStatus] = [.online, .away, .inCall]
}

/// `{roomId}`: the request of `room:leave`, `typing:start` and `typing:stop`, their
/// acknowledgements, and the payload of `room:deleted`, `room:kicked` and `room:left`.
public struct RoomRef: Codable, Sendable, Equatable {
    public var roomId: String

    public init(roomId: String) { self.roomId = roomId }
}

/// A member of a room with their presence, as `room:join` lists them.
public struct Participant: Codable, Sendable, Equatable {
    public var userId: String
    public var username: String
    public var avatarUrl: String?
    /// `admin` or `member`.
    public var role: String
    public var joinedAt: Date
    public var status: PresenceStatus

    public init(member: MemberDTO, status: PresenceStatus) {
        self.userId = member.userId
        self.username = member.username
        self.avatarUrl = member.avatarUrl
        self.role = member.role
        self.joinedAt = member.joinedAt
        self.status = status
    }
}

/// The acknowledgement of an event that failed: `{error: {code, message}}` (the `error` event
/// carries the bare ``ErrorBody`` when the client asked for no acknowledgement).
public struct AckFailure: Codable, Sendable, Equatable {
    public var error: ErrorBody

    public init(_ error: ErrorBody) { self.error = error }
}

// MARK: - Client → server

/// What a client sends with Socket.IO's CONNECT (`auth`): its access token. A refused connect
/// gets `connect_error` with `data` ``ConnectRefusal``.
public struct ConnectAuth: Codable, Sendable, Equatable {
    public var token: String

    public init(token: String) { self.token = token }
}

/// The `data` of a `connect_error`: why the gateway refused the connection.
public struct ConnectRefusal: Codable, Sendable, Equatable {
    public var code: ErrorCode

    public init(code: ErrorCode) { self.code = code }
}

/// `room:join`: open a room on this socket; with `lastSeq`, the messages after it come first.
public struct RoomJoinRequest: Codable, Sendable, Equatable {
    public var roomId: String
    /// The last sequence number the client has (`nil`: nothing older than now is sent).
    public var lastSeq: Int?

    public init(roomId: String, lastSeq: Int? = nil) {
        self.roomId = roomId
        self.lastSeq = lastSeq
    }
}

/// The acknowledgement of `room:join`.
public struct RoomJoinAck: Codable, Sendable, Equatable {
    public var roomId: String
    public var participants: [Participant]
    public var room: RoomDTO
    /// Who is in the room's voice now.
    public var voiceParticipants: [VoiceParticipant]

    public init(roomId: String, participants: [Participant], room: RoomDTO, voiceParticipants: [VoiceParticipant] = []) {
        self.roomId = roomId
        self.participants = participants
        self.room = room
        self.voiceParticipants = voiceParticipants
    }
}

/// The acknowledgement of `message:send` (its request is ``SendMessageBody``).
public struct MessageSendAck: Codable, Sendable, Equatable {
    public var message: MessageDTO

    public init(message: MessageDTO) { self.message = message }
}

/// `presence:update`: the status of this socket (`online`, `away` or `in_call`).
public struct PresenceUpdateRequest: Codable, Sendable, Equatable {
    /// Checked against ``PresenceStatus/settable`` by the gateway, so that a wrong value gets a
    /// clear error rather than a decoding failure.
    public var status: String

    public init(status: String) { self.status = status }
}

/// The acknowledgement of `presence:update`: the user's effective status (the best of their sockets).
public struct PresenceAck: Codable, Sendable, Equatable {
    public var status: PresenceStatus

    public init(status: PresenceStatus) { self.status = status }
}

/// `auth:refresh`: a new access token for the same user, so the socket outlives the old one.
public struct AuthRefreshRequest: Codable, Sendable, Equatable {
    public var token: String

    public init(token: String) { self.token = token }
}

/// `{ok: true}`: the acknowledgement of `auth:refresh`.
public struct OkAck: Codable, Sendable, Equatable {
    public var ok: Bool

    public init() { self.ok = true }
}

/// A client event with its decoded payload.
public enum ClientEvent: Sendable, Equatable {
    case roomJoin(RoomJoinRequest)
    case roomLeave(RoomRef)
    case messageSend(SendMessageBody)
    case typingStart(RoomRef)
    case typingStop(RoomRef)
    case presenceUpdate(PresenceUpdateRequest)
    case authRefresh(AuthRefreshRequest)
    case voiceJoin(VoiceJoinRequest)
    case voiceLeave(RoomRef)
    case voiceSignal(VoiceSignalRequest)
    case voiceState(VoiceStateRequest)
    case voiceSpeaking(VoiceSpeakingRequest)

    /// The event's wire name.
    public var name: ClientEventName {
        switch self {
        case .roomJoin: return .roomJoin
        case .roomLeave: return .roomLeave
        case .messageSend: return .messageSend
        case .typingStart: return .typingStart
        case .typingStop: return .typingStop
        case .presenceUpdate: return .presenceUpdate
        case .authRefresh: return .authRefresh
        case .voiceJoin: return .voiceJoin
        case .voiceLeave: return .voiceLeave
        case .voiceSignal: return .voiceSignal
        case .voiceState: return .voiceState
        case .voiceSpeaking: return .voiceSpeaking
        }
    }

    /// Decodes the payload of the event `name` from its JSON.
    /// - Throws: `DecodingError` naming what is missing or of the wrong type.
    public static func decode(_ name: ClientEventName, json: Data, decoder: JSONDecoder = WireDateCoding.decoder()) throws
        -> ClientEvent
    {
        switch name {
        case .roomJoin: return .roomJoin(try decoder.decode(RoomJoinRequest.self, from: json))
        case .roomLeave: return .roomLeave(try decoder.decode(RoomRef.self, from: json))
        case .messageSend: return .messageSend(try decoder.decode(SendMessageBody.self, from: json))
        case .typingStart: return .typingStart(try decoder.decode(RoomRef.self, from: json))
        case .typingStop: return .typingStop(try decoder.decode(RoomRef.self, from: json))
        case .presenceUpdate: return .presenceUpdate(try decoder.decode(PresenceUpdateRequest.self, from: json))
        case .authRefresh: return .authRefresh(try decoder.decode(AuthRefreshRequest.self, from: json))
        case .voiceJoin: return .voiceJoin(try decoder.decode(VoiceJoinRequest.self, from: json))
        case .voiceLeave: return .voiceLeave(try decoder.decode(RoomRef.self, from: json))
        case .voiceSignal: return .voiceSignal(try decoder.decode(VoiceSignalRequest.self, from: json))
        case .voiceState: return .voiceState(try decoder.decode(VoiceStateRequest.self, from: json))
        case .voiceSpeaking: return .voiceSpeaking(try decoder.decode(VoiceSpeakingRequest.self, from: json))
        }
    }
}

// MARK: - Server → client

/// `room:joined`, to the socket that joined (before the messages it missed).
public struct RoomJoinedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var participants: [Participant]

    public init(roomId: String, participants: [Participant]) {
        self.roomId = roomId
        self.participants = participants
    }
}

/// `room:user_joined`: a user opened the room (their first socket in it).
public struct UserJoinedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var username: String
    public var status: PresenceStatus
    public var timestamp: Date

    public init(roomId: String, userId: String, username: String, status: PresenceStatus, timestamp: Date = Date()) {
        self.roomId = roomId
        self.userId = userId
        self.username = username
        self.status = status
        self.timestamp = timestamp
    }
}

/// `room:user_left`: a user closed the room (their last socket in it).
public struct UserLeftEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var timestamp: Date

    public init(roomId: String, userId: String, timestamp: Date = Date()) {
        self.roomId = roomId
        self.userId = userId
        self.timestamp = timestamp
    }
}

/// `message:edited`.
public struct MessageEditedEvent: Codable, Sendable, Equatable {
    public var message: MessageDTO

    public init(message: MessageDTO) { self.message = message }
}

/// `message:deleted`: the tombstone (`deletedAt` set, empty content).
public struct MessageDeletedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var message: MessageDTO

    public init(roomId: String, message: MessageDTO) {
        self.roomId = roomId
        self.message = message
    }
}

/// `user:typing`.
public struct UserTypingEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String
    public var username: String

    public init(roomId: String, userId: String, username: String) {
        self.roomId = roomId
        self.userId = userId
        self.username = username
    }
}

/// `user:stopped_typing`.
public struct UserStoppedTypingEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String

    public init(roomId: String, userId: String) {
        self.roomId = roomId
        self.userId = userId
    }
}

/// `user:presence_changed`: a user's effective status changed.
public struct PresenceChangedEvent: Codable, Sendable, Equatable {
    public var userId: String
    public var status: PresenceStatus

    public init(userId: String, status: PresenceStatus) {
        self.userId = userId
        self.status = status
    }
}

/// `room:member_joined` and `room:member_role_changed`.
public struct MemberChangedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var member: MemberDTO

    public init(roomId: String, member: MemberDTO) {
        self.roomId = roomId
        self.member = member
    }
}

/// `room:member_left` and `room:member_kicked`, to the other members.
public struct MemberGoneEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var userId: String

    public init(roomId: String, userId: String) {
        self.roomId = roomId
        self.userId = userId
    }
}

/// `room:updated`.
public struct RoomUpdatedEvent: Codable, Sendable, Equatable {
    public var roomId: String
    public var room: RoomDTO

    public init(roomId: String, room: RoomDTO) {
        self.roomId = roomId
        self.room = room
    }
}

/// A server event with its payload: the only way the gateway emits one.
public enum ServerEvent: Sendable {
    case roomJoined(RoomJoinedEvent)
    case userJoined(UserJoinedEvent)
    case userLeft(UserLeftEvent)
    case messageReceived(MessageDTO)
    case messageEdited(MessageEditedEvent)
    case messageDeleted(MessageDeletedEvent)
    case userTyping(UserTypingEvent)
    case userStoppedTyping(UserStoppedTypingEvent)
    case presenceChanged(PresenceChangedEvent)
    case memberJoined(MemberChangedEvent)
    case memberLeft(MemberGoneEvent)
    case memberKicked(MemberGoneEvent)
    case memberRoleChanged(MemberChangedEvent)
    case roomUpdated(RoomUpdatedEvent)
    case roomDeleted(RoomRef)
    case kicked(RoomRef)
    case left(RoomRef)
    case error(ErrorBody)
    case voiceUserJoined(VoiceUserJoinedEvent)
    case voiceUserLeft(VoiceUserLeftEvent)
    case voiceSignal(VoiceSignalEvent)
    case voiceStateChanged(VoiceStateChangedEvent)
    case voiceSpeaking(VoiceSpeakingEvent)

    /// The event's wire name.
    public var name: ServerEventName {
        switch self {
        case .roomJoined: return .roomJoined
        case .userJoined: return .userJoined
        case .userLeft: return .userLeft
        case .messageReceived: return .messageReceived
        case .messageEdited: return .messageEdited
        case .messageDeleted: return .messageDeleted
        case .userTyping: return .userTyping
        case .userStoppedTyping: return .userStoppedTyping
        case .presenceChanged: return .presenceChanged
        case .memberJoined: return .memberJoined
        case .memberLeft: return .memberLeft
        case .memberKicked: return .memberKicked
        case .memberRoleChanged: return .memberRoleChanged
        case .roomUpdated: return .roomUpdated
        case .roomDeleted: return .roomDeleted
        case .kicked: return .kicked
        case .left: return .left
        case .error: return .error
        case .voiceUserJoined: return .voiceUserJoined
        case .voiceUserLeft: return .voiceUserLeft
        case .voiceSignal: return .voiceSignal
        case .voiceStateChanged: return .voiceStateChanged
        case .voiceSpeaking: return .voiceSpeaking
        }
    }

    /// The payload, to encode.
    public var payload: any Encodable & Sendable {
        switch self {
        case .roomJoined(let payload): return payload
        case .userJoined(let payload): return payload
        case .userLeft(let payload): return payload
        case .messageReceived(let payload): return payload
        case .messageEdited(let payload): return payload
        case .messageDeleted(let payload): return payload
        case .userTyping(let payload): return payload
        case .userStoppedTyping(let payload): return payload
        case .presenceChanged(let payload): return payload
        case .memberJoined(let payload): return payload
        case .memberLeft(let payload): return payload
        case .memberKicked(let payload): return payload
        case .memberRoleChanged(let payload): return payload
        case .roomUpdated(let payload): return payload
        case .roomDeleted(let payload): return payload
        case .kicked(let payload): return payload
        case .left(let payload): return payload
        case .error(let payload): return payload
        case .voiceUserJoined(let payload): return payload
        case .voiceUserLeft(let payload): return payload
        case .voiceSignal(let payload): return payload
        case .voiceStateChanged(let payload): return payload
        case .voiceSpeaking(let payload): return payload
        }
    }
}
