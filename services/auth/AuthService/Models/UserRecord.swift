import Foundation
import VoiceFlowCommon

/// A row of `users`, including the password hash (never sent to clients).
struct UserRecord: Sendable {
    var id: UUID
    var username: String
    var email: String
    var passwordHash: String
    var avatarUrl: String?
    var createdAt: Date
    var updatedAt: Date
    var isGuest: Bool

    /// The client-facing form, without the hash.
    var dto: UserDTO {
        UserDTO(id: id, username: username, email: email, avatarUrl: avatarUrl, createdAt: createdAt, updatedAt: updatedAt)
    }

    /// The identity an access token carries.
    var identity: AuthenticatedUser {
        AuthenticatedUser(id: id, username: username, kind: isGuest ? .guest : .user)
    }
}
