import Foundation

/// The verified caller of a request or socket, as carried by an access token.
public struct AuthenticatedUser: Sendable, Hashable, Codable {
    /// What kind of account the token was minted for.
    public enum Kind: String, Sendable, Codable {
        case user
        case guest
    }

    /// The user's id.
    public let id: UUID
    /// The user's name when the token was minted.
    public let username: String
    /// Full user or limited guest.
    public let kind: Kind

    /// Creates an identity.
    public init(id: UUID, username: String, kind: Kind = .user) {
        self.id = id
        self.username = username
        self.kind = kind
    }
}
