import Foundation
import VoiceFlowCommon

/// A room as the messages service needs it, with the caller's role in it.
struct RoomAccess: Sendable, Equatable {
    var roomID: UUID
    /// False for a closed room (its last member left) and for a dormant one (idle for a while,
    /// still with members: their activity wakes it up).
    var isActive: Bool
    /// Inactive with no members left: nobody can post or join any more.
    var isClosed: Bool
    var recordMessages: Bool
    /// `admin`, `member`, or `nil` for non-members.
    var role: String?
}

/// A page of history: the messages, the room's count of messages that are not deleted, and
/// whether more come in the page's direction.
struct HistoryPage: Sendable {
    var messages: [MessageDTO]
    var total: Int
    var hasMore: Bool
}

/// Storage of messages with their per-room sequence numbers.
protocol MessageRepository: Sendable {
    func access(room: UUID, user: UUID) async throws -> RoomAccess?
    /// The MIME type of `file` if it exists and was uploaded by `user`, else `nil`.
    func uploadType(_ file: UUID, of user: UUID) async throws -> String?
    /// Stores a message with the room's next sequence number, in one statement, if `author` is a
    /// member of `room` at that moment; `nil` (nothing stored) otherwise.
    func create(room: UUID, author: UUID, content: String, type: String, file: UUID?) async throws -> MessageDTO?
    func find(_ id: UUID) async throws -> (message: MessageDTO, authorID: UUID?)?
    func history(room: UUID, cursor: HistoryCursor, limit: Int) async throws -> HistoryPage
    func edit(_ id: UUID, content: String) async throws -> MessageDTO?
    /// Turns the message into a tombstone and uncounts it from its room, in one statement.
    func delete(_ id: UUID) async throws -> MessageDTO?
    /// The author's public profile, for messages that are not stored.
    func author(_ user: UUID) async throws -> AuthorDTO?
}
