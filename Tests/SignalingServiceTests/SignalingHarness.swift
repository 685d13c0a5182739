import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import SignalingService
import TestSupport
import VoiceFlowCommon
import VoiceFlowRedis

/// The signaling application in-process over real HTTP, against the test PostgreSQL and Redis,
/// with users and rooms made directly in the database.
func withSignalingService(
    _ overrides: [String: String] = [:],
    _ body: @escaping @Sendable (any TestClientProtocol, TestUsers, SignalingFixtures) async throws -> Void
) async throws {
    let variables = TestEnvironment.serviceVariables(
        ["TURN_SECRET": "north-wind-secret", "TURN_URLS": "turn:127.0.0.1:3478?transport=udp"].merging(overrides) { $1 })
    let configuration = try SignalingConfiguration(environment: EnvironmentReader(variables))
    let application = try await buildApplication(configuration: configuration, logger: TestEnvironment.logger("signaling"))
    try await ScratchDatabase.withClient(configuration.service.database) { postgres, logger in
        let users = try await TestUsers(client: postgres, keyFile: variables["JWT_KEY_FILE"]!, logger: logger)
        let redis = RedisClient(configuration: configuration.service.redis, logger: logger)
        try await application.test(.live) { client in
            try await body(client, users, SignalingFixtures(postgres: postgres, redis: redis, logger: logger))
        }
        await redis.shutdown()
    }
}

/// Rooms and memberships written straight to the database, and Redis for what gateways write.
struct SignalingFixtures: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let logger: Logger

    /// A room created by `admin`, with `members` as members.
    func room(admin: TestUsers.User, members: [TestUsers.User] = [], isPublic: Bool = true, isActive: Bool = true) async throws -> UUID {
        let code = String(TestEnvironment.uniqueSuffix().prefix(8)).uppercased()
        let settings = isPublic ? #"{"isPublic": true}"# : #"{"isPublic": false}"#
        var id: UUID?
        for try await value in try await postgres.query(
            """
            INSERT INTO rooms (code, name, created_by, settings, is_active)
            VALUES (\(code), 'Voice room', \(admin.id), \(settings)::jsonb, \(isActive)) RETURNING id
            """, logger: logger
        ).decode(UUID.self) {
            id = value
        }
        guard let room = id else { throw FixtureError.missing }
        try await postgres.query("INSERT INTO room_users (room_id, user_id, role) VALUES (\(room), \(admin.id), 'admin')", logger: logger)
        for member in members {
            try await postgres.query("INSERT INTO room_users (room_id, user_id, role) VALUES (\(room), \(member.id), 'member')", logger: logger)
        }
        return room
    }

    /// Marks a gateway alive (as its presence heartbeat does) and a socket of `user` as connected to it.
    func connect(_ user: TestUsers.User, socket: String, gateway: String) async throws {
        _ = try await redis.pipeline([
            ["HSET", PresenceKeys.alive, gateway, String(Int64(Date().timeIntervalSince1970 * 1000) + 60_000)],
            ["HSET", PresenceKeys.user(user.id.uuidString.lowercased()), socket, "\(gateway)|online"],
        ])
    }
}

enum FixtureError: Error {
    case missing
}
