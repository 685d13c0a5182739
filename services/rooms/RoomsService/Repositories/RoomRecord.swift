import Foundation
import PostgresNIO
import VoiceFlowCommon

/// A row of `rooms` with its member count.
struct RoomRecord: Sendable {
    var id: UUID
    var code: String
    var name: String
    var description: String?
    var createdBy: UUID
    var maxUsers: Int
    var settings: RoomSettings
    var isActive: Bool
    var createdAt: Date
    var lastActivity: Date
    var memberCount: Int

    /// The columns ``decode(_:)`` reads, for `FROM rooms r`.
    static let columns = """
        r.id, r.code, r.name, r.description, r.created_by, r.max_users, r.settings::text, r.is_active,
        r.created_at, r.last_activity, (SELECT count(*) FROM room_users m WHERE m.room_id = r.id)
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [RoomRecord] {
        var records: [RoomRecord] = []
        let decoder = JSONDecoder()
        for try await row in rows {
            let (id, code, name, description, createdBy, maxUsers, settings, isActive, createdAt, lastActivity, count) =
                try row.decode((UUID, String, String, String?, UUID, Int, String, Bool, Date, Date, Int).self)
            let parsed = (try? decoder.decode(RoomSettings.self, from: Data(settings.utf8))) ?? .defaults
            records.append(
                RoomRecord(
                    id: id, code: code, name: name, description: description, createdBy: createdBy, maxUsers: maxUsers,
                    settings: parsed, isActive: isActive, createdAt: createdAt, lastActivity: lastActivity, memberCount: count))
        }
        return records
    }

    func dto(participants: [MemberDTO]? = nil) -> RoomDTO {
        RoomDTO(
            id: id, code: code, name: name, description: description, createdBy: createdBy, maxUsers: maxUsers,
            settings: settings, isActive: isActive, memberCount: memberCount, createdAt: createdAt,
            lastActivity: lastActivity, participants: participants)
    }
}

/// A membership row joined with the user's public profile.
struct MemberRecord: Sendable {
    var userId: UUID
    var username: String
    var avatarUrl: String?
    var role: String
    var joinedAt: Date

    static let columns = "u.id, u.username, u.avatar_url, m.role, m.joined_at"

    static func decode(_ rows: PostgresRowSequence) async throws -> [MemberRecord] {
        var members: [MemberRecord] = []
        for try await (id, username, avatar, role, joinedAt) in rows.decode((UUID, String, String?, String, Date).self) {
            members.append(MemberRecord(userId: id, username: username, avatarUrl: avatar, role: role, joinedAt: joinedAt))
        }
        return members
    }

    var dto: MemberDTO {
        MemberDTO(userId: userId, username: username, avatarUrl: avatarUrl, role: role, joinedAt: joinedAt)
    }

    var isAdmin: Bool { role == "admin" }
}
