import Foundation
import PostgresNIO
import VoiceFlowCommon

/// One message as the statements of ``MessageStatements`` return it (``MessageStatements/columns``).
struct MessageRow: Sendable {
    var message: MessageDTO
    /// The author's id, `nil` for system messages and deleted accounts.
    var authorID: UUID?

    /// Reads the sixteen message columns of `row`.
    init(_ row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        guard let message = try Self.message(columns, from: 0) else { throw MessageRowError.missingID }
        self = message
    }

    init(message: MessageDTO, authorID: UUID?) {
        self.message = message
        self.authorID = authorID
    }

    /// The message in the sixteen columns starting at `first`, or `nil` when its id is NULL (an
    /// empty page of a history statement).
    static func message(_ columns: PostgresRandomAccessRow, from first: Int) throws -> MessageRow? {
        guard let id = try columns[first].decode(UUID?.self) else { return nil }
        let room = try columns[first + 1].decode(UUID.self)
        let seq = try columns[first + 2].decode(Int.self)
        let content = try columns[first + 3].decode(String.self)
        let type = try columns[first + 4].decode(String.self)
        let createdAt = try columns[first + 5].decode(Date.self)
        let editedAt = try columns[first + 6].decode(Date?.self)
        let deletedAt = try columns[first + 7].decode(Date?.self)
        let authorID = try columns[first + 8].decode(UUID?.self)
        let author = try authorID.map { id in
            AuthorDTO(id: id, username: try columns[first + 9].decode(String.self), avatarUrl: try columns[first + 10].decode(String?.self))
        }
        let fileID = try columns[first + 11].decode(UUID?.self)
        let file = try fileID.map { id in
            FileDTO(
                id: id, name: try columns[first + 12].decode(String.self), size: try columns[first + 13].decode(Int.self),
                mimeType: try columns[first + 14].decode(String.self), url: try columns[first + 15].decode(String.self))
        }
        let message = MessageDTO(
            id: id, roomId: room, seq: seq, content: content, type: type, author: author, file: file,
            createdAt: createdAt, editedAt: editedAt, deletedAt: deletedAt)
        return MessageRow(message: message, authorID: authorID)
    }
}

/// A row of a history statement: the room's message count, then a message or NULLs.
struct HistoryRow: Sendable {
    var total: Int
    var message: MessageDTO?

    init(_ row: PostgresRow) throws {
        let columns = row.makeRandomAccess()
        total = try columns[0].decode(Int.self)
        message = try MessageRow.message(columns, from: 1)?.message
    }
}

/// A message row without an id where one must be.
enum MessageRowError: Error {
    case missingID
}
