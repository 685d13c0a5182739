import Foundation
import JWTKit
import Logging
import PostgresNIO
import VoiceFlowCommon

/// Users made directly in the database, with access tokens signed by the test key: for services that
/// only verify tokens, so their tests need no auth service.
public struct TestUsers: Sendable {
    /// A user and a valid access token for it.
    public struct User: Sendable {
        public let id: UUID
        public let username: String
        public let token: String
    }

    private let client: PostgresClient
    private let keys: JWTKeyCollection
    private let logger: Logger

    /// Signs with the key in `keyFile` (created if missing), as auth would.
    public init(client: PostgresClient, keyFile: String, logger: Logger) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["JWT_KEY_FILE"] = keyFile
        let key = try SigningKey.load(TokenKeyConfiguration(environment: EnvironmentReader(environment)), mode: .test)
        let keys = JWTKeyCollection()
        await keys.add(eddsa: key.privateKey, kid: JWKIdentifier(string: key.keyID))
        self.client = client
        self.keys = keys
        self.logger = logger
    }

    /// Inserts a user (unusable password; a guest account for `.guest`) and returns it with a 15-minute token.
    public func make(_ prefix: String = "u", kind: AuthenticatedUser.Kind = .user) async throws -> User {
        let username = "\(prefix)_\(TestEnvironment.uniqueSuffix())".prefix(20).description
        var id: UUID?
        for try await value in try await client.query(
            """
            INSERT INTO users (username, email, password_hash, is_guest)
            VALUES (\(username), \(username + "@example.com"), '!', \(kind == .guest)) RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) {
            id = value
        }
        guard let id else { throw TestUsersError.insertFailed }
        let token = try await keys.sign(AccessTokenClaims(user: AuthenticatedUser(id: id, username: username, kind: kind), lifetime: .seconds(900)))
        return User(id: id, username: username, token: token)
    }
}

enum TestUsersError: Error {
    case insertFailed
}
