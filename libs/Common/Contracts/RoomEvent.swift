import Foundation

/// What happened in a room. The raw values are the wire names; never rename one.
public enum RoomEventType: String, Codable, Sendable, CaseIterable {
    case roomCreated = "room.created"
    case roomUpdated = "room.updated"
    case roomDeleted = "room.deleted"
    case memberJoined = "member.joined"
    case memberLeft = "member.left"
    case memberKicked = "member.kicked"
    case memberRoleChanged = "member.role_changed"
    case messageCreated = "message.created"
    case messageEdited = "message.edited"
    case messageDeleted = "message.deleted"
    case voiceJoined = "voice.joined"
    case voiceLeft = "voice.left"
    case voiceStateChanged = "voice.state_changed"
    case voiceSpeaking = "voice.speaking"

    /// Voice events: they change nothing of the room or its members.
    public var isVoice: Bool {
        switch self {
        case .voiceJoined, .voiceLeft, .voiceStateChanged, .voiceSpeaking: return true
        default: return false
        }
    }
}

/// The envelope services publish on a room's Redis channel after a change is committed, and
/// gateways consume. One definition for publisher and subscriber alike; `version` changes only
/// with an incompatible change of shape.
public struct RoomEvent: Codable, Sendable, Equatable {
    /// The envelope version this code writes.
    public static let currentVersion = 1

    public var version: Int
    public var type: RoomEventType
    public var roomId: String
    /// Who caused it, when a user did.
    public var actorId: String?
    /// The room after the change (created/updated).
    public var room: RoomDTO?
    /// The member concerned (joined/role changed).
    public var member: MemberDTO?
    /// The user concerned (left/kicked).
    public var userId: String?
    /// The message concerned (message events).
    public var message: MessageDTO?
    /// The voice session concerned (voice events), as it is after the change.
    public var voice: VoiceSession?
    /// Why the voice session ended (`voice.left`).
    public var voiceReason: VoiceLeaveReason?
    public var occurredAt: Date
    /// When the event was published, in seconds since 1970 with sub-millisecond precision (set by
    /// ``EventPublisher``; optional, so older publishers stay readable). Receivers use it for lag
    /// and delivery-latency figures, never for ordering.
    public var publishedAt: Double?

    public init(
        type: RoomEventType, roomId: UUID, actorId: UUID?, room: RoomDTO? = nil, member: MemberDTO? = nil,
        userId: UUID? = nil, message: MessageDTO? = nil, voice: VoiceSession? = nil, voiceReason: VoiceLeaveReason? = nil,
        occurredAt: Date = Date()
    ) {
        self.voice = voice
        self.voiceReason = voiceReason
        self.version = Self.currentVersion
        self.type = type
        self.roomId = roomId.lowercasedString
        self.actorId = actorId?.lowercasedString
        self.room = room
        self.member = member
        self.userId = userId?.lowercasedString
        self.message = message
        self.occurredAt = occurredAt
    }

    /// The Redis channel of a room's events.
    public static func channel(for roomId: UUID) -> String {
        "vf:room:\(roomId.lowercasedString)"
    }
}
