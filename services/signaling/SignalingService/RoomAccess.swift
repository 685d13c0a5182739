import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// Who may use a room's voice: its members, while the room is open. Read from PostgreSQL on every
/// call that starts or lists a voice session, so a kick or a closed room is never missed.
struct RoomAccess: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// The room's state and the user's role in it.
    struct Statement: PostgresPreparedStatement {
        static let name = "vf_signaling_access"
        static let sql = """
            SELECT r.is_active, r.settings -> 'isPublic' IS DISTINCT FROM 'false'::jsonb, ru.role
            FROM rooms r LEFT JOIN room_users ru ON ru.room_id = r.id AND ru.user_id = $2
            WHERE r.id = $1
            """
        typealias Row = (Bool, Bool, String?)

        var room: UUID
        var user: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(room)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Succeeds for a member of an open room. As for `room:join`: a public room one is not a member
    /// of answers 403; a room one cannot see (private, closed, or none) answers 404.
    func requireMember(room: UUID, user: UUID) async throws {
        for try await (isActive, isPublic, role) in try await client.execute(Statement(room: room, user: user), logger: logger) {
            if role != nil {
                guard isActive else { throw APIError.conflict(.roomInactive, "The room is closed") }
                return
            }
            if isActive, isPublic { throw APIError.forbidden("Only members can use this room's voice") }
            throw APIError.notFound("Room not found")
        }
        throw APIError.notFound("Room not found")
    }
}
