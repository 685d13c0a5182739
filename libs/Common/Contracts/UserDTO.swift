import Foundation
import Hummingbird

/// A user as the API returns it to that user: never with a password hash.
public struct UserDTO: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var username: String
    public var email: String
    public var avatarUrl: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// An address the user asked to change to, waiting for its confirmation through that address:
    /// only in the answer to that request (`PATCH /api/v1/users/:id` with `email`), absent otherwise.
    public var pendingEmail: String?

    /// Creates the DTO; ids are rendered lowercase.
    public init(
        id: UUID, username: String, email: String, avatarUrl: String?, createdAt: Date, updatedAt: Date,
        pendingEmail: String? = nil
    ) {
        self.id = id.lowercasedString
        self.username = username
        self.email = email
        self.avatarUrl = avatarUrl
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.pendingEmail = pendingEmail
    }

    /// Encodes `avatarUrl` as `null` when unset, so clients always see every field; `pendingEmail`
    /// only when there is one.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(username, forKey: .username)
        try container.encode(email, forKey: .email)
        try container.encode(avatarUrl, forKey: .avatarUrl)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(pendingEmail, forKey: .pendingEmail)
    }
}
