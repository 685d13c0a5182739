import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// Storage of `file_metadata` rows and who may read them.
protocol FileRepository: Sendable {
    func insert(id: UUID, name: String, size: Int, mimeType: String, url: String, uploader: UUID) async throws -> FileDTO
    func find(_ id: UUID) async throws -> (file: FileDTO, uploader: UUID)?
    /// Whether `user` is a member of a room where a (not deleted) message shares `file`.
    func isShared(_ file: UUID, with user: UUID) async throws -> Bool
}

/// ``FileRepository`` on PostgreSQL.
struct PostgresFileRepository: FileRepository {
    let client: PostgresClient
    let logger: Logger

    func insert(id: UUID, name: String, size: Int, mimeType: String, url: String, uploader: UUID) async throws -> FileDTO {
        try await client.query(
            """
            INSERT INTO file_metadata (id, name, size, mime_type, url, uploaded_by)
            VALUES (\(id), \(name), \(size), \(mimeType), \(url), \(uploader))
            """, logger: logger)
        return FileDTO(id: id, name: name, size: size, mimeType: mimeType, url: url)
    }

    func find(_ id: UUID) async throws -> (file: FileDTO, uploader: UUID)? {
        for try await (name, size, mimeType, url, uploader) in try await client.query(
            "SELECT name, size, mime_type, url, uploaded_by FROM file_metadata WHERE id = \(id)", logger: logger
        ).decode((String, Int, String, String, UUID).self) {
            return (FileDTO(id: id, name: name, size: size, mimeType: mimeType, url: url), uploader)
        }
        return nil
    }

    func isShared(_ file: UUID, with user: UUID) async throws -> Bool {
        for try await _ in try await client.query(
            """
            SELECT 1 FROM messages_all m JOIN room_users ru ON ru.room_id = m.room_id AND ru.user_id = \(user)
            WHERE m.file_id = \(file) AND m.deleted_at IS NULL LIMIT 1
            """, logger: logger
        ).decode(Int.self) {
            return true
        }
        return false
    }
}
