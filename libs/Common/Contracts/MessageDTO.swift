import Foundation
import Hummingbird

/// The author of a message, as every member may see it.
public struct AuthorDTO: Codable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var avatarUrl: String?

    public init(id: UUID, username: String, avatarUrl: String?) {
        self.id = id.lowercasedString
        self.username = username
        self.avatarUrl = avatarUrl
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(username, forKey: .username)
        try container.encode(avatarUrl, forKey: .avatarUrl)
    }
}

/// An attached file's metadata.
public struct FileDTO: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var size: Int
    public var mimeType: String
    public var url: String

    public init(id: UUID, name: String, size: Int, mimeType: String, url: String) {
        self.id = id.lowercasedString
        self.name = name
        self.size = size
        self.mimeType = mimeType
        self.url = url
    }
}

/// A chat message as the API and the socket events carry it.
///
/// `seq` is the room's sequence number: strictly increasing, without gaps, so a client that saw
/// `seq` N asks for `after=N` to catch up. It is `nil` only for rooms that do not record messages.
/// A deleted message stays as a tombstone (`deletedAt` set, empty content) so sequences stay whole.
public struct MessageDTO: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var roomId: String
    public var seq: Int?
    public var content: String
    /// `text`, `file`, `voice_note` or `system`.
    public var type: String
    /// `nil` for system messages and for authors whose account was deleted.
    public var author: AuthorDTO?
    public var file: FileDTO?
    public var createdAt: Date
    public var editedAt: Date?
    public var deletedAt: Date?

    public init(
        id: UUID, roomId: UUID, seq: Int?, content: String, type: String, author: AuthorDTO?, file: FileDTO?,
        createdAt: Date, editedAt: Date?, deletedAt: Date?
    ) {
        self.id = id.lowercasedString
        self.roomId = roomId.lowercasedString
        self.seq = seq
        self.content = content
        self.type = type
        self.author = author
        self.file = file
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.deletedAt = deletedAt
    }
}
