import Foundation
import Logging
import NIOCore
import PostgresNIO
import VoiceFlowCommon

/// What presenting an e-mail confirmation token led to.
enum EmailConfirmation: Sendable {
    /// The address is changed; the token is used up.
    case confirmed(UserRecord)
    /// Unknown, expired or already used.
    case invalid
    /// Valid, but another account took the address meanwhile; the token is used up.
    case addressTaken
}

/// Pending changes of e-mail address: one per user, holding only the SHA-256 of the token sent to
/// the new address.
protocol EmailChangeRepository: Sendable {
    /// Stores the pending change of `userID`, replacing any earlier one.
    func request(userID: UUID, newEmail: String, tokenHash: [UInt8], expiresAt: Date) async throws
    /// Drops the pending change of `userID`, if any.
    func cancel(userID: UUID) async throws
    /// Applies the change whose token has `tokenHash`, once.
    func confirm(tokenHash: [UInt8]) async throws -> EmailConfirmation
}

/// ``EmailChangeRepository`` on PostgreSQL: confirmation locks the pending row, checks and deletes it
/// and changes the address in one transaction, so a token cannot be used twice even concurrently.
struct PostgresEmailChangeRepository: EmailChangeRepository {
    let client: PostgresClient
    let logger: Logger

    func request(userID: UUID, newEmail: String, tokenHash: [UInt8], expiresAt: Date) async throws {
        try await client.query(
            """
            INSERT INTO email_changes (user_id, new_email, token_hash, expires_at)
            VALUES (\(userID), \(newEmail), \(ByteBuffer(bytes: tokenHash)), \(expiresAt))
            ON CONFLICT (user_id) DO UPDATE SET
              new_email = EXCLUDED.new_email, token_hash = EXCLUDED.token_hash,
              expires_at = EXCLUDED.expires_at, created_at = now()
            """, logger: logger)
    }

    func cancel(userID: UUID) async throws {
        try await client.query("DELETE FROM email_changes WHERE user_id = \(userID)", logger: logger)
    }

    func confirm(tokenHash: [UInt8]) async throws -> EmailConfirmation {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    DELETE FROM email_changes WHERE token_hash = \(ByteBuffer(bytes: tokenHash))
                    RETURNING user_id, new_email, expires_at > now()
                    """, logger: logger)
                var found: (UUID, String, Bool)?
                for try await row in rows.decode((UUID, String, Bool).self) { found = row }
                guard let (userID, newEmail, live) = found, live else { return .invalid }
                let taken = try await connection.query(
                    "SELECT 1 FROM users WHERE lower(email) = lower(\(newEmail)) AND id <> \(userID)", logger: logger)
                var isTaken = false
                for try await _ in taken { isTaken = true }
                if isTaken { return .addressTaken }
                let updated = try await connection.query(
                    """
                    UPDATE users SET email = \(newEmail), updated_at = now() WHERE id = \(userID)
                    RETURNING id, username, email, password_hash, avatar_url, created_at, updated_at, is_guest
                    """, logger: logger)
                var user: UserRecord?
                for try await (id, username, email, hash, avatar, createdAt, updatedAt, isGuest) in updated.decode(
                    (UUID, String, String, String, String?, Date, Date, Bool).self)
                {
                    user = UserRecord(
                        id: id, username: username, email: email, passwordHash: hash, avatarUrl: avatar,
                        createdAt: createdAt, updatedAt: updatedAt, isGuest: isGuest)
                }
                return user.map { .confirmed($0) } ?? .invalid
            }
        } catch let error as PSQLError where error.uniqueViolationConstraint == "idx_users_email" {
            // Taken by a registration that committed between the check and the update.
            return .addressTaken
        }
    }
}
