import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import VoiceFlowCommon

/// How an update treats the avatar.
enum AvatarChange: Sendable {
    case keep
    case clear
    case set(String)
}

/// Storage of user accounts.
protocol UserRepository: Sendable {
    /// Inserts a user; a taken name or e-mail is a 409 ``APIError``.
    func create(username: String, email: String, passwordHash: String) async throws -> UserRecord
    /// Inserts a guest account (no usable password).
    func createGuest(username: String) async throws -> UserRecord
    func find(id: UUID) async throws -> UserRecord?
    func find(email: String) async throws -> UserRecord?
    /// Applies the given changes; `nil` when the user does not exist.
    func update(id: UUID, username: String?, email: String?, avatar: AvatarChange) async throws -> UserRecord?
}

/// ``UserRepository`` on PostgreSQL.
struct PostgresUserRepository: UserRepository {
    let client: PostgresClient
    let logger: Logger


    func create(username: String, email: String, passwordHash: String) async throws -> UserRecord {
        do {
            let rows = try await client.query(
                """
                INSERT INTO users (username, email, password_hash) VALUES (\(username), \(email), \(passwordHash))
                RETURNING id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest
                """, logger: logger)
            guard let user = try await Self.first(rows) else { throw APIError.internalError }
            return user
        } catch let error as PSQLError {
            throw Self.conflict(for: error) ?? error
        }
    }

    func createGuest(username: String) async throws -> UserRecord {
        let email = "\(UUID().lowercasedString)@guest.invalid"
        let rows = try await client.query(
            """
            INSERT INTO users (username, email, password_hash, is_guest) VALUES (\(username), \(email), '!', true)
            RETURNING id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest
            """, logger: logger)
        guard let user = try await Self.first(rows) else { throw APIError.internalError }
        return user
    }

    func find(id: UUID) async throws -> UserRecord? {
        try await Self.first(
            client.query(
                "SELECT id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest FROM users WHERE id = \(id)",
                logger: logger))
    }

    func find(email: String) async throws -> UserRecord? {
        try await Self.first(
            client.query(
                """
                SELECT id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest
                FROM users WHERE lower(email) = lower(\(email)) AND NOT is_guest
                """, logger: logger))
    }

    func update(id: UUID, username: String?, email: String?, avatar: AvatarChange) async throws -> UserRecord? {
        let avatarURL: String?
        let changeAvatar: Bool
        switch avatar {
        case .keep: (avatarURL, changeAvatar) = (nil, false)
        case .clear: (avatarURL, changeAvatar) = (nil, true)
        case .set(let url): (avatarURL, changeAvatar) = (url, true)
        }
        do {
            return try await Self.first(
                client.query(
                    """
                    UPDATE users SET
                      username = COALESCE(\(username), username),
                      email = COALESCE(\(email), email),
                      avatar_url = CASE WHEN \(changeAvatar) THEN \(avatarURL) ELSE avatar_url END,
                      updated_at = now()
                    WHERE id = \(id)
                    RETURNING id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest
                    """, logger: logger))
        } catch let error as PSQLError {
            throw Self.conflict(for: error) ?? error
        }
    }

    /// The 409 for a unique violation on user name or e-mail.
    private static func conflict(for error: PSQLError) -> APIError? {
        switch error.uniqueViolationConstraint {
        case "idx_users_username":
            APIError(status: .conflict, code: .usernameTaken, message: "That username is already taken", details: ["username": "taken"])
        case "idx_users_email":
            APIError(status: .conflict, code: .emailTaken, message: "That email is already registered", details: ["email": "taken"])
        default:
            nil
        }
    }

    private static func first(_ rows: PostgresRowSequence) async throws -> UserRecord? {
        for try await (id, username, email, hash, avatar, createdAt, updatedAt, isGuest) in rows.decode(
            (UUID, String, String, String, String?, Date, Date, Bool).self)
        {
            return UserRecord(
                id: id, username: username, email: email, passwordHash: hash, avatarUrl: avatar,
                createdAt: createdAt, updatedAt: updatedAt, isGuest: isGuest)
        }
        return nil
    }
}
