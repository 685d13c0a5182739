import Foundation
import Logging
import NIOCore
import PostgresNIO

/// What presenting a refresh token led to.
enum RefreshOutcome: Sendable, Equatable {
    /// Valid: it is now rotated; the new token belongs to the same family.
    case rotated(userID: UUID, familyID: UUID)
    /// Unknown, expired or revoked.
    case invalid
    /// Already rotated before: treated as theft, the whole family is now revoked.
    case reused(userID: UUID, familyID: UUID)
}

/// A refresh-token family (one login session) and its holder.
struct LoginSessionRef: Sendable, Equatable {
    var userID: UUID
    var familyID: UUID
}

/// Storage of refresh tokens: only SHA-256 hashes are stored; families chain rotations.
protocol RefreshTokenRepository: Sendable {
    func insert(hash: [UInt8], userID: UUID, familyID: UUID, expiresAt: Date) async throws
    /// Atomically checks and rotates the token with `hash`; on success inserts `replacement` in its family.
    func rotate(hash: [UInt8], replacement: [UInt8], expiresAt: Date) async throws -> RefreshOutcome
    /// Revokes the family of the token with `hash`; `nil` when no such token exists.
    func revokeFamily(ofTokenWithHash hash: [UInt8]) async throws -> LoginSessionRef?
}

/// ``RefreshTokenRepository`` on PostgreSQL; rotation runs in one transaction with a row lock, so two
/// concurrent uses of one token cannot both succeed.
struct PostgresRefreshTokenRepository: RefreshTokenRepository {
    let client: PostgresClient
    let logger: Logger

    func insert(hash: [UInt8], userID: UUID, familyID: UUID, expiresAt: Date) async throws {
        try await client.query(
            """
            INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
            VALUES (\(userID), \(familyID), \(ByteBuffer(bytes: hash)), \(expiresAt))
            """, logger: logger)
    }

    func rotate(hash: [UInt8], replacement: [UInt8], expiresAt: Date) async throws -> RefreshOutcome {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, user_id, family_id, expires_at > now(), rotated_at IS NOT NULL, revoked_at IS NOT NULL
                FROM refresh_tokens WHERE token_hash = \(ByteBuffer(bytes: hash)) FOR UPDATE
                """, logger: logger)
            var found: (UUID, UUID, UUID, Bool, Bool, Bool)?
            for try await row in rows.decode((UUID, UUID, UUID, Bool, Bool, Bool).self) { found = row }
            guard let (id, userID, familyID, live, rotated, revoked) = found else { return .invalid }
            if revoked { return .invalid }
            if rotated {
                try await connection.query(
                    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = \(familyID) AND revoked_at IS NULL",
                    logger: logger)
                return .reused(userID: userID, familyID: familyID)
            }
            guard live else { return .invalid }
            try await connection.query("UPDATE refresh_tokens SET rotated_at = now() WHERE id = \(id)", logger: logger)
            try await connection.query(
                """
                INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
                VALUES (\(userID), \(familyID), \(ByteBuffer(bytes: replacement)), \(expiresAt))
                """, logger: logger)
            return .rotated(userID: userID, familyID: familyID)
        }
    }

    func revokeFamily(ofTokenWithHash hash: [UInt8]) async throws -> LoginSessionRef? {
        var found: LoginSessionRef?
        for try await (userID, familyID) in try await client.query(
            "SELECT user_id, family_id FROM refresh_tokens WHERE token_hash = \(ByteBuffer(bytes: hash))", logger: logger
        ).decode((UUID, UUID).self) {
            found = LoginSessionRef(userID: userID, familyID: familyID)
        }
        guard let found else { return nil }
        try await client.query(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = \(found.familyID) AND revoked_at IS NULL",
            logger: logger)
        return found
    }
}
