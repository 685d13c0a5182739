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

    /// Creates the DTO; ids are rendered lowercase.
    public init(id: UUID, username: String, email: String, avatarUrl: String?, createdAt: Date, updatedAt: Date) {
        self.id = id.uuidString.lowercased()
        self.username = username
        self.email = email
        self.avatarUrl = avatarUrl
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
