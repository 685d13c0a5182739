import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// What a join attempt led to.
enum JoinOutcome: Sendable {
    case joined(MemberRecord)
    case alreadyMember
    case pending(requestID: UUID, createdAt: Date)
    case full
    case inactive
}

/// What an admin's decision on a join request led to.
enum DecisionOutcome: Sendable {
    case approved(MemberRecord)
    case rejected(userID: UUID)
    case full
    case inactive
    /// The requester is a guest and the room no longer accepts guests (the request stays pending).
    case guestsNotAllowed
}

/// What leaving led to.
struct LeaveOutcome: Sendable {
    /// The member promoted because the last admin left.
    var promoted: MemberRecord?
    /// Whether the room is now empty and inactive.
    var deactivated: Bool
}

/// Storage of rooms, memberships and join requests, with the membership rules applied atomically.
protocol RoomRepository: Sendable {
    func create(name: String, description: String?, maxUsers: Int, settings: RoomSettings, creator: UUID) async throws -> RoomRecord
    func find(id: UUID) async throws -> RoomRecord?
    func find(code: String) async throws -> RoomRecord?
    func rooms(of user: UUID, paging: Paging) async throws -> (rooms: [RoomRecord], total: Int)
    func publicRooms(paging: Paging) async throws -> (rooms: [RoomRecord], total: Int)
    func members(of room: UUID) async throws -> [MemberRecord]
    func membership(of user: UUID, in room: UUID) async throws -> MemberRecord?
    func update(_ room: UUID, name: String?, description: String??, maxUsers: Int?, settings: RoomSettings?) async throws -> RoomRecord?
    func delete(_ room: UUID) async throws
    func join(_ room: UUID, user: UUID) async throws -> JoinOutcome
    func leave(_ room: UUID, user: UUID) async throws -> LeaveOutcome?
    func setRole(_ role: String, of user: UUID, in room: UUID) async throws -> MemberRecord?
    func pendingRequests(of room: UUID) async throws -> [(id: UUID, user: MemberRecord)]
    func decide(request: UUID, in room: UUID, approve: Bool, by admin: UUID) async throws -> DecisionOutcome?
}

/// ``RoomRepository`` on PostgreSQL. Membership changes lock the room row, so the member limit and
/// the "one admin at least" rule hold under concurrent joins and leaves.
struct PostgresRoomRepository: RoomRepository {
    let client: PostgresClient
    let logger: Logger

    func create(name: String, description: String?, maxUsers: Int, settings: RoomSettings, creator: UUID) async throws -> RoomRecord {
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        for _ in 0..<5 {
            let code = JoinCode.random()
            do {
                let id = try await client.withTransaction(logger: logger) { connection -> UUID in
                    var roomID: UUID?
                    for try await id in try await connection.query(
                        """
                        INSERT INTO rooms (code, name, description, created_by, max_users, settings)
                        VALUES (\(code), \(name), \(description), \(creator), \(maxUsers), \(settingsJSON)::jsonb) RETURNING id
                        """, logger: logger
                    ).decode(UUID.self) {
                        roomID = id
                    }
                    guard let roomID else { throw APIError.internalError }
                    try await connection.query(
                        "INSERT INTO room_users (room_id, user_id, role) VALUES (\(roomID), \(creator), 'admin')", logger: logger)
                    return roomID
                }
                guard let room = try await find(id: id) else { throw APIError.internalError }
                return room
            } catch {
                // A code collision: draw another. Anything else is a real failure.
                guard let failure = unwrappingTransaction(error) as? PSQLError,
                    failure.uniqueViolationConstraint?.contains("code") == true
                else { throw error }
            }
        }
        throw APIError.internalError
    }

    func find(id: UUID) async throws -> RoomRecord? {
        try await RoomRecord.decode(client.query("SELECT \(unescaped: RoomRecord.columns) FROM rooms r WHERE r.id = \(id)", logger: logger)).first
    }

    func find(code: String) async throws -> RoomRecord? {
        try await RoomRecord.decode(
            client.query("SELECT \(unescaped: RoomRecord.columns) FROM rooms r WHERE upper(r.code) = \(code)", logger: logger)
        ).first
    }

    func rooms(of user: UUID, paging: Paging) async throws -> (rooms: [RoomRecord], total: Int) {
        let rooms = try await RoomRecord.decode(
            client.query(
                """
                SELECT \(unescaped: RoomRecord.columns) FROM rooms r
                JOIN room_users mine ON mine.room_id = r.id AND mine.user_id = \(user)
                ORDER BY r.last_activity DESC, r.id LIMIT \(paging.limit) OFFSET \(paging.offset)
                """, logger: logger))
        let total = try await count("SELECT count(*) FROM room_users WHERE user_id = \(user)")
        return (rooms, total)
    }

    func publicRooms(paging: Paging) async throws -> (rooms: [RoomRecord], total: Int) {
        let rooms = try await RoomRecord.decode(
            client.query(
                """
                SELECT \(unescaped: RoomRecord.columns) FROM rooms r
                WHERE r.is_active AND (r.settings->>'isPublic')::boolean
                ORDER BY r.last_activity DESC, r.id LIMIT \(paging.limit) OFFSET \(paging.offset)
                """, logger: logger))
        let total = try await count("SELECT count(*) FROM rooms WHERE is_active AND (settings->>'isPublic')::boolean")
        return (rooms, total)
    }

    func members(of room: UUID) async throws -> [MemberRecord] {
        try await MemberRecord.decode(
            client.query(
                """
                SELECT \(unescaped: MemberRecord.columns) FROM room_users m JOIN users u ON u.id = m.user_id
                WHERE m.room_id = \(room) ORDER BY m.joined_at, m.id
                """, logger: logger))
    }

    func membership(of user: UUID, in room: UUID) async throws -> MemberRecord? {
        try await MemberRecord.decode(
            client.query(
                """
                SELECT \(unescaped: MemberRecord.columns) FROM room_users m JOIN users u ON u.id = m.user_id
                WHERE m.room_id = \(room) AND m.user_id = \(user)
                """, logger: logger)
        ).first
    }

    func update(_ room: UUID, name: String?, description: String??, maxUsers: Int?, settings: RoomSettings?) async throws -> RoomRecord? {
        let settingsJSON = try settings.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let changesDescription = description != nil
        let newDescription: String? = description ?? nil
        let updated = try await client.withTransaction(logger: logger) { connection -> Bool in
            var exists = false
            var members = 0
            for try await count in try await connection.query(
                """
                SELECT (SELECT count(*) FROM room_users WHERE room_id = r.id) FROM rooms r WHERE r.id = \(room) FOR UPDATE
                """, logger: logger
            ).decode(Int.self) {
                exists = true
                members = count
            }
            guard exists else { return false }
            if let maxUsers, maxUsers < members {
                throw APIError.conflict(.conflict, "maxUsers cannot be below the current member count (\(members))")
            }
            try await connection.query(
                """
                UPDATE rooms SET
                  name = COALESCE(\(name), name),
                  description = CASE WHEN \(changesDescription) THEN \(newDescription) ELSE description END,
                  max_users = COALESCE(\(maxUsers), max_users),
                  settings = COALESCE(\(settingsJSON)::jsonb, settings)
                WHERE id = \(room)
                """, logger: logger)
            return true
        }
        return updated ? try await find(id: room) : nil
    }

    func delete(_ room: UUID) async throws {
        try await client.query("DELETE FROM rooms WHERE id = \(room)", logger: logger)
    }

    func join(_ room: UUID, user: UUID) async throws -> JoinOutcome {
        try await client.withTransaction(logger: logger) { connection -> JoinOutcome in
            var found: (Int, Bool, String)?
            for try await row in try await connection.query(
                "SELECT max_users, is_active, settings::text FROM rooms WHERE id = \(room) FOR UPDATE", logger: logger
            ).decode((Int, Bool, String).self) {
                found = row
            }
            guard let (maxUsers, isActive, settingsText) = found else { return .inactive }
            let settings = (try? JSONDecoder().decode(RoomSettings.self, from: Data(settingsText.utf8))) ?? .defaults
            let (members, alreadyMember) = try await headcount(of: room, including: user, on: connection)
            if alreadyMember { return .alreadyMember }
            // A room without members is closed for good; one that only went dormant (no activity
            // for a while, see the jobs service) still has members, and a join wakes it up.
            guard isActive || members > 0 else { return .inactive }
            if settings.requireApproval {
                try await connection.query(
                    """
                    INSERT INTO room_join_requests (room_id, user_id) VALUES (\(room), \(user))
                    ON CONFLICT (room_id, user_id) WHERE status = 'pending' DO NOTHING
                    """, logger: logger)
                for try await (id, createdAt) in try await connection.query(
                    "SELECT id, created_at FROM room_join_requests WHERE room_id = \(room) AND user_id = \(user) AND status = 'pending'",
                    logger: logger
                ).decode((UUID, Date).self) {
                    return .pending(requestID: id, createdAt: createdAt)
                }
                throw APIError.internalError
            }
            guard members < maxUsers else { return .full }
            return try await addMember(user, to: room, on: connection)
        }
    }

    /// Inserts the membership and bumps the room's activity (waking a dormant room); the caller
    /// holds the room lock.
    private func addMember(_ user: UUID, to room: UUID, on connection: PostgresConnection) async throws -> JoinOutcome {
        try await connection.query(
            "INSERT INTO room_users (room_id, user_id, role) VALUES (\(room), \(user), 'member')", logger: logger)
        try await connection.query("UPDATE rooms SET last_activity = now(), is_active = true WHERE id = \(room)", logger: logger)
        guard let member = try await memberRow(user, in: room, on: connection) else { throw APIError.internalError }
        return .joined(member)
    }

    func leave(_ room: UUID, user: UUID) async throws -> LeaveOutcome? {
        try await client.withTransaction(logger: logger) { connection -> LeaveOutcome? in
            try await connection.query("SELECT id FROM rooms WHERE id = \(room) FOR UPDATE", logger: logger)
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM room_users WHERE room_id = \(room) AND user_id = \(user) RETURNING id", logger: logger
            ).decode(UUID.self) {
                removed = true
            }
            guard removed else { return nil }
            let remaining = try await MemberRecord.decode(
                connection.query(
                    """
                    SELECT \(unescaped: MemberRecord.columns) FROM room_users m JOIN users u ON u.id = m.user_id
                    WHERE m.room_id = \(room) ORDER BY m.joined_at, m.id
                    """, logger: logger))
            if remaining.isEmpty {
                try await connection.query("UPDATE rooms SET is_active = false WHERE id = \(room)", logger: logger)
                return LeaveOutcome(promoted: nil, deactivated: true)
            }
            if !remaining.contains(where: \.isAdmin), var successor = remaining.first {
                try await connection.query(
                    "UPDATE room_users SET role = 'admin' WHERE room_id = \(room) AND user_id = \(successor.userId)", logger: logger)
                successor.role = "admin"
                return LeaveOutcome(promoted: successor, deactivated: false)
            }
            return LeaveOutcome(promoted: nil, deactivated: false)
        }
    }

    func setRole(_ role: String, of user: UUID, in room: UUID) async throws -> MemberRecord? {
        try await client.withTransaction(logger: logger) { connection -> MemberRecord? in
            try await connection.query("SELECT id FROM rooms WHERE id = \(room) FOR UPDATE", logger: logger)
            if role == "member" {
                var otherAdmins = 0
                for try await count in try await connection.query(
                    "SELECT count(*) FROM room_users WHERE room_id = \(room) AND role = 'admin' AND user_id <> \(user)", logger: logger
                ).decode(Int.self) {
                    otherAdmins = count
                }
                if otherAdmins == 0 {
                    throw APIError.conflict(.lastAdmin, "A room needs at least one admin")
                }
            }
            try await connection.query(
                "UPDATE room_users SET role = \(role) WHERE room_id = \(room) AND user_id = \(user)", logger: logger)
            return try await memberRow(user, in: room, on: connection)
        }
    }

    func pendingRequests(of room: UUID) async throws -> [(id: UUID, user: MemberRecord)] {
        var requests: [(id: UUID, user: MemberRecord)] = []
        for try await (id, userID, username, avatar, createdAt) in try await client.query(
            """
            SELECT r.id, u.id, u.username, u.avatar_url, r.created_at FROM room_join_requests r JOIN users u ON u.id = r.user_id
            WHERE r.room_id = \(room) AND r.status = 'pending' ORDER BY r.created_at, r.id
            """, logger: logger
        ).decode((UUID, UUID, String, String?, Date).self) {
            requests.append((id, MemberRecord(userId: userID, username: username, avatarUrl: avatar, role: "member", joinedAt: createdAt)))
        }
        return requests
    }

    func decide(request: UUID, in room: UUID, approve: Bool, by admin: UUID) async throws -> DecisionOutcome? {
        try await client.withTransaction(logger: logger) { connection -> DecisionOutcome? in
            var found: (Int, Bool, Bool)?
            for try await row in try await connection.query(
                """
                SELECT max_users, is_active, COALESCE((settings->>'allowGuests')::boolean, false)
                FROM rooms WHERE id = \(room) FOR UPDATE
                """, logger: logger
            ).decode((Int, Bool, Bool).self) {
                found = row
            }
            guard let (maxUsers, isActive, allowsGuests) = found else { return nil }
            var requester: (UUID, Bool)?
            for try await row in try await connection.query(
                """
                SELECT r.user_id, u.is_guest FROM room_join_requests r JOIN users u ON u.id = r.user_id
                WHERE r.id = \(request) AND r.room_id = \(room) AND r.status = 'pending' FOR UPDATE OF r
                """, logger: logger
            ).decode((UUID, Bool).self) {
                requester = row
            }
            guard let (user, isGuest) = requester else { return nil }
            let outcome: DecisionOutcome
            if approve {
                // The settings may have changed since the guest asked.
                guard allowsGuests || !isGuest else { return .guestsNotAllowed }
                let (members, alreadyMember) = try await headcount(of: room, including: user, on: connection)
                guard isActive || members > 0 else { return .inactive }
                if alreadyMember {
                    guard let member = try await memberRow(user, in: room, on: connection) else { throw APIError.internalError }
                    outcome = .approved(member)
                } else {
                    guard members < maxUsers else { return .full }
                    guard case .joined(let member) = try await addMember(user, to: room, on: connection) else { throw APIError.internalError }
                    outcome = .approved(member)
                }
            } else {
                outcome = .rejected(userID: user)
            }
            let status = approve ? "approved" : "rejected"
            try await connection.query(
                """
                UPDATE room_join_requests SET status = \(status), decided_by = \(admin), decided_at = now() WHERE id = \(request)
                """, logger: logger)
            return outcome
        }
    }

    /// How many members `room` has, and whether `user` is one of them.
    private func headcount(of room: UUID, including user: UUID, on connection: PostgresConnection) async throws -> (Int, Bool) {
        for try await (count, mine) in try await connection.query(
            "SELECT count(*), count(*) FILTER (WHERE user_id = \(user)) FROM room_users WHERE room_id = \(room)", logger: logger
        ).decode((Int, Int).self) {
            return (count, mine > 0)
        }
        return (0, false)
    }

    private func memberRow(_ user: UUID, in room: UUID, on connection: PostgresConnection) async throws -> MemberRecord? {
        try await MemberRecord.decode(
            connection.query(
                """
                SELECT \(unescaped: MemberRecord.columns) FROM room_users m JOIN users u ON u.id = m.user_id
                WHERE m.room_id = \(room) AND m.user_id = \(user)
                """, logger: logger)
        ).first
    }

    private func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query, logger: logger).decode(Int.self) {
            return value
        }
        return 0
    }
}
