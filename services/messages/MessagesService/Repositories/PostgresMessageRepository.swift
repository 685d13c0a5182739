import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// ``MessageRepository`` on PostgreSQL: every operation is one statement (one round trip), and the
/// frequent ones are prepared statements (``MessageStatements``).
struct PostgresMessageRepository: MessageRepository {
    let client: PostgresClient
    let logger: Logger

    /// Where a message can be: the live table first, then the archive. A message is in exactly one;
    /// an edit or deletion racing the archive job finds it in the second if it left the first.
    static let tables = ["messages", "messages_archive"]

    func access(room: UUID, user: UUID) async throws -> RoomAccess? {
        for try await (isActive, isClosed, recordMessages, role) in try await client.execute(
            MessageStatements.Access(room: room, user: user), logger: logger)
        {
            return RoomAccess(roomID: room, isActive: isActive, isClosed: isClosed, recordMessages: recordMessages, role: role)
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

    /// Content lengths (UTF-8 bytes) up to which the stored row reaches the client only after the
    /// commit. PostgreSQL sends the answer of a single statement when it processes the Sync that
    /// ends (and commits) its implicit transaction, unless the answer overflows its 8 KiB output
    /// buffer first; a longer message is stored in an explicit transaction instead, so it is never
    /// published before its commit.
    static let singleStatementContentBytes = 6 * 1024

    func create(room: UUID, author: UUID, content: String, type: String, file: UUID?) async throws -> MessageDTO? {
        let statement = MessageStatements.Create(room: room, author: author, content: content, type: type, file: file)
        guard content.utf8.count <= Self.singleStatementContentBytes else {
            return try await client.withTransaction(logger: logger) { connection in
                try await Self.single(connection.execute(statement, logger: logger))
            }
        }
        return try await Self.single(client.execute(statement, logger: logger))
    }

    /// The message of a statement that returns at most one, read to the end of the answer.
    private static func single<Rows: AsyncSequence>(_ rows: Rows) async throws -> MessageDTO? where Rows.Element == MessageRow {
        var message: MessageDTO?
        for try await row in rows { message = row.message }
        return message
    }

    func find(_ id: UUID) async throws -> (message: MessageDTO, authorID: UUID?)? {
        for try await row in try await client.execute(MessageStatements.Find(id: id), logger: logger) {
            return (row.message, row.authorID)
        }
        return nil
    }

    func history(room: UUID, cursor: HistoryCursor, limit: Int) async throws -> HistoryPage {
        let fetch = limit + 1
        let rows: [HistoryRow]
        switch cursor {
        case .latest:
            rows = try await collect(MessageStatements.NewestFirst(room: room, before: .max, skip: 0, limit: fetch))
        case .before(let seq):
            rows = try await collect(MessageStatements.NewestFirst(room: room, before: seq, skip: 0, limit: fetch))
        case .page(let page):
            rows = try await collect(MessageStatements.NewestFirst(room: room, before: .max, skip: (page - 1) * limit, limit: fetch))
        case .after(let seq):
            rows = try await collect(MessageStatements.OldestFirst(room: room, after: seq, limit: fetch))
        }
        let messages = rows.compactMap(\.message)
        return HistoryPage(messages: Array(messages.prefix(limit)), total: rows.first?.total ?? 0, hasMore: messages.count > limit)
    }

    private func collect<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [HistoryRow]
    where Statement.Row == HistoryRow {
        var rows: [HistoryRow] = []
        for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    func edit(_ id: UUID, content: String) async throws -> MessageDTO? {
        try await firstHolder { table in
            """
            WITH m AS (
              UPDATE \(unescaped: table) SET content = \(content), edited_at = now(), updated_at = now()
              WHERE id = \(id) AND deleted_at IS NULL RETURNING *
            )
            SELECT \(unescaped: MessageStatements.columns) FROM m \(unescaped: MessageStatements.joins)
            """
        }
    }

    func delete(_ id: UUID) async throws -> MessageDTO? {
        try await firstHolder { table in
            """
            WITH m AS (
              UPDATE \(unescaped: table) SET content = '', file_id = NULL, deleted_at = now(), updated_at = now()
              WHERE id = \(id) AND deleted_at IS NULL RETURNING *
            ), counted AS (
              UPDATE rooms SET message_count = message_count - 1 WHERE id IN (SELECT room_id FROM m)
            )
            SELECT \(unescaped: MessageStatements.columns) FROM m \(unescaped: MessageStatements.joins)
            """
        }
    }

    /// Runs `update` (a statement that changes one message and returns it) on each of ``tables`` in
    /// turn, stopping at the first that changes a row: a normal edit touches the live table only.
    private func firstHolder(_ update: (String) -> PostgresQuery) async throws -> MessageDTO? {
        for table in Self.tables {
            for try await row in try await client.query(update(table), logger: logger) {
                return try MessageRow(row).message
            }
        }
        return nil
    }

    func author(_ user: UUID) async throws -> AuthorDTO? {
        for try await (id, username, avatar) in try await client.query(
            "SELECT id, username, avatar_url FROM users WHERE id = \(user)", logger: logger
        ).decode((UUID, String, String?).self) {
            return AuthorDTO(id: id, username: username, avatarUrl: avatar)
        }
        return nil
    }
}
