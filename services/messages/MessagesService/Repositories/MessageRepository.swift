import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// A room as the messages service needs it, with the caller's role in it.
struct RoomAccess: Sendable {
    var roomID: UUID
    /// False for a closed room (its last member left) and for a dormant one (idle for a while,
    /// still with members: their activity wakes it up).
    var isActive: Bool
    var recordMessages: Bool
    /// `admin`, `member`, or `nil` for non-members.
    var role: String?
}

/// Storage of messages with their per-room sequence numbers.
protocol MessageRepository: Sendable {
    func access(room: UUID, user: UUID) async throws -> RoomAccess?
    /// The MIME type of `file` if it exists and was uploaded by `user`, else `nil`.
    func uploadType(_ file: UUID, of user: UUID) async throws -> String?
    /// Stores a message with the room's next sequence number, in one transaction.
    func create(room: UUID, author: UUID, content: String, type: String, file: UUID?) async throws -> MessageDTO?
    func find(_ id: UUID) async throws -> (message: MessageDTO, authorID: UUID?)?
    func history(room: UUID, cursor: HistoryCursor, limit: Int) async throws -> (messages: [MessageDTO], total: Int, hasMore: Bool)
    func edit(_ id: UUID, content: String) async throws -> MessageDTO?
    func delete(_ id: UUID) async throws -> MessageDTO?
    /// The author's public profile, for messages that are not stored.
    func author(_ user: UUID) async throws -> AuthorDTO?
}

/// ``MessageRepository`` on PostgreSQL.
struct PostgresMessageRepository: MessageRepository {
    let client: PostgresClient
    let logger: Logger

    static let columns = """
        m.id, m.room_id, m.seq, m.content, m.type, m.created_at, m.edited_at, m.deleted_at,
        u.id, u.username, u.avatar_url, f.id, f.name, f.size, f.mime_type, f.url
        """
    /// Live and archived messages alike (the `messages_all` view), so history goes on past the archive.
    static let source = "messages_all m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN file_metadata f ON f.id = m.file_id"

    /// Where a message can be: the live table first, then the archive. A message is in exactly one;
    /// an edit or deletion racing the archive job finds it in the second if it left the first.
    static let tables = ["messages", "messages_archive"]

    func access(room: UUID, user: UUID) async throws -> RoomAccess? {
        for try await (isActive, settings, role) in try await client.query(
            """
            SELECT r.is_active, r.settings::text, (SELECT role FROM room_users WHERE room_id = r.id AND user_id = \(user))
            FROM rooms r WHERE r.id = \(room)
            """, logger: logger
        ).decode((Bool, String, String?).self) {
            let parsed = (try? JSONDecoder().decode(RoomSettings.self, from: Data(settings.utf8))) ?? .defaults
            return RoomAccess(roomID: room, isActive: isActive, recordMessages: parsed.recordMessages, role: role)
        }
        return nil
    }

    func uploadType(_ file: UUID, of user: UUID) async throws -> String? {
        for try await mimeType in try await client.query(
            "SELECT mime_type FROM file_metadata WHERE id = \(file) AND uploaded_by = \(user)", logger: logger
        ).decode(String.self) {
            return mimeType
        }
        return nil
    }

    func create(room: UUID, author: UUID, content: String, type: String, file: UUID?) async throws -> MessageDTO? {
        let id = try await client.withTransaction(logger: logger) { connection -> UUID? in
            var seq: Int?
            for try await value in try await connection.query(
                """
                UPDATE rooms SET last_message_seq = last_message_seq + 1, last_activity = now(), is_active = true
                WHERE id = \(room) AND (is_active OR EXISTS (SELECT 1 FROM room_users WHERE room_id = \(room)))
                RETURNING last_message_seq
                """, logger: logger
            ).decode(Int.self) {
                seq = value
            }
            guard let seq else { return nil }
            for try await id in try await connection.query(
                """
                INSERT INTO messages (room_id, user_id, content, type, file_id, seq)
                VALUES (\(room), \(author), \(content), \(type), \(file), \(seq)) RETURNING id
                """, logger: logger
            ).decode(UUID.self) {
                return id
            }
            return nil
        }
        guard let id else { return nil }
        return try await find(id)?.message
    }

    func find(_ id: UUID) async throws -> (message: MessageDTO, authorID: UUID?)? {
        try await Self.decode(client.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.source) WHERE m.id = \(id)", logger: logger))
            .first
    }

    func history(room: UUID, cursor: HistoryCursor, limit: Int) async throws -> (messages: [MessageDTO], total: Int, hasMore: Bool) {
        let fetch = limit + 1
        let query: PostgresQuery
        switch cursor {
        case .latest:
            query = "SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.source) WHERE m.room_id = \(room) ORDER BY m.seq DESC LIMIT \(fetch)"
        case .before(let seq):
            query = """
                SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.source)
                WHERE m.room_id = \(room) AND m.seq < \(seq) ORDER BY m.seq DESC LIMIT \(fetch)
                """
        case .page(let page):
            query = """
                SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.source)
                WHERE m.room_id = \(room) ORDER BY m.seq DESC LIMIT \(fetch) OFFSET \((page - 1) * limit)
                """
        case .after(let seq):
            query = """
                SELECT \(unescaped: Self.columns) FROM \(unescaped: Self.source)
                WHERE m.room_id = \(room) AND m.seq > \(seq) ORDER BY m.seq ASC LIMIT \(fetch)
                """
        }
        let rows = try await Self.decode(client.query(query, logger: logger)).map(\.message)
        var total = 0
        for try await count in try await client.query(
            "SELECT count(*) FROM messages_all WHERE room_id = \(room) AND deleted_at IS NULL", logger: logger
        ).decode(Int.self) {
            total = count
        }
        return (Array(rows.prefix(limit)), total, rows.count > limit)
    }

    func edit(_ id: UUID, content: String) async throws -> MessageDTO? {
        try await updateFirstHolder { table in
            """
            UPDATE \(unescaped: table) SET content = \(content), edited_at = now(), updated_at = now()
            WHERE id = \(id) AND deleted_at IS NULL RETURNING 1
            """
        }
        return try await find(id)?.message
    }

    func delete(_ id: UUID) async throws -> MessageDTO? {
        try await updateFirstHolder { table in
            """
            UPDATE \(unescaped: table) SET content = '', file_id = NULL, deleted_at = now(), updated_at = now()
            WHERE id = \(id) AND deleted_at IS NULL RETURNING 1
            """
        }
        return try await find(id)?.message
    }

    /// Runs `update` (an `UPDATE ... RETURNING 1` of one message) on each of ``tables`` in turn,
    /// stopping at the first that changes a row: a normal edit touches the live table only.
    private func updateFirstHolder(_ update: (String) -> PostgresQuery) async throws {
        for table in Self.tables {
            for try await _ in try await client.query(update(table), logger: logger).decode(Int.self) { return }
        }
    }

    func author(_ user: UUID) async throws -> AuthorDTO? {
        for try await (id, username, avatar) in try await client.query(
            "SELECT id, username, avatar_url FROM users WHERE id = \(user)", logger: logger
        ).decode((UUID, String, String?).self) {
            return AuthorDTO(id: id, username: username, avatarUrl: avatar)
        }
        return nil
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [(message: MessageDTO, authorID: UUID?)] {
        var messages: [(message: MessageDTO, authorID: UUID?)] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let id = try columns[0].decode(UUID.self)
            let room = try columns[1].decode(UUID.self)
            let seq = try columns[2].decode(Int.self)
            let content = try columns[3].decode(String.self)
            let type = try columns[4].decode(String.self)
            let createdAt = try columns[5].decode(Date.self)
            let editedAt = try columns[6].decode(Date?.self)
            let deletedAt = try columns[7].decode(Date?.self)
            let authorID = try columns[8].decode(UUID?.self)
            let author = try authorID.map { id in
                AuthorDTO(id: id, username: try columns[9].decode(String.self), avatarUrl: try columns[10].decode(String?.self))
            }
            let fileID = try columns[11].decode(UUID?.self)
            let file = try fileID.map { id in
                FileDTO(
                    id: id, name: try columns[12].decode(String.self), size: try columns[13].decode(Int.self),
                    mimeType: try columns[14].decode(String.self), url: try columns[15].decode(String.self))
            }
            let message = MessageDTO(
                id: id, roomId: room, seq: seq, content: content, type: type, author: author, file: file,
                createdAt: createdAt, editedAt: editedAt, deletedAt: deletedAt)
            messages.append((message, authorID))
        }
        return messages
    }
}
