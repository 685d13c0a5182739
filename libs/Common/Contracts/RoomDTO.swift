import Foundation
import Hummingbird

/// A room's settings, with the guide's defaults.
public struct RoomSettings: Codable, Sendable, Equatable {
    public var isPublic: Bool
    public var allowGuests: Bool
    public var requireApproval: Bool
    /// When false, messages are delivered live but not stored.
    public var recordMessages: Bool

    /// The defaults: public, no guests, no approval, messages recorded.
    public static let defaults = RoomSettings(isPublic: true, allowGuests: false, requireApproval: false, recordMessages: true)

    public init(isPublic: Bool, allowGuests: Bool, requireApproval: Bool, recordMessages: Bool) {
        self.isPublic = isPublic
        self.allowGuests = allowGuests
        self.requireApproval = requireApproval
        self.recordMessages = recordMessages
    }
}

/// A member of a room as the API shows it (no e-mail addresses).
public struct MemberDTO: ResponseCodable, Sendable, Equatable {
    public var userId: String
    public var username: String
    public var avatarUrl: String?
    /// `admin` or `member`.
    public var role: String
    public var joinedAt: Date

    public init(userId: UUID, username: String, avatarUrl: String?, role: String, joinedAt: Date) {
        self.userId = userId.lowercasedString
        self.username = username
        self.avatarUrl = avatarUrl
        self.role = role
        self.joinedAt = joinedAt
    }
}

/// A room as the API returns it.
public struct RoomDTO: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var code: String
    public var name: String
    public var description: String?
    public var createdBy: String
    public var maxUsers: Int
    public var settings: RoomSettings
    public var isActive: Bool
    public var memberCount: Int
    public var createdAt: Date
    public var lastActivity: Date
    /// The members with their roles, on the single-room routes.
    public var participants: [MemberDTO]?

    public init(
        id: UUID, code: String, name: String, description: String?, createdBy: UUID, maxUsers: Int,
        settings: RoomSettings, isActive: Bool, memberCount: Int, createdAt: Date, lastActivity: Date,
        participants: [MemberDTO]? = nil
    ) {
        self.id = id.lowercasedString
        self.code = code
        self.name = name
        self.description = description
        self.createdBy = createdBy.lowercasedString
        self.maxUsers = maxUsers
        self.settings = settings
        self.isActive = isActive
        self.memberCount = memberCount
        self.createdAt = createdAt
        self.lastActivity = lastActivity
        self.participants = participants
    }
}
