import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import MessagesService
import NIOCore
import PostgresNIO
import TestSupport
import VoiceFlowCommon

/// Users and rooms made directly in the database for message tests.
struct MessageFixtures: Sendable {
    let users: TestUsers
    let postgres: PostgresClient
    let logger: Logger

    /// A room with `admin` as its admin and `members` as members.
    func room(admin: TestUsers.User, members: [TestUsers.User] = [], recordMessages: Bool = true) async throws -> UUID {
        let settings = #"{"isPublic": true, "allowGuests": false, "requireApproval": false, "recordMessages": \#(recordMessages)}"#
        let code = String(TestEnvironment.uniqueSuffix().uppercased().prefix(10))
        var roomID: UUID?
        for try await id in try await postgres.query(
            "INSERT INTO rooms (code, name, created_by, settings) VALUES (\(code), 'Chat', \(admin.id), \(settings)::jsonb) RETURNING id",
            logger: logger
        ).decode(UUID.self) {
            roomID = id
        }
        guard let roomID else { throw HarnessError.setup }
        try await postgres.query("INSERT INTO room_users (room_id, user_id, role) VALUES (\(roomID), \(admin.id), 'admin')", logger: logger)
        for member in members {
            try await postgres.query("INSERT INTO room_users (room_id, user_id) VALUES (\(roomID), \(member.id))", logger: logger)
        }
        return roomID
    }

    /// Moves the room's messages up to `seq` into the archive, as the jobs service's archive job does.
    func archive(_ room: UUID, through seq: Int) async throws {
        try await postgres.query(
            """
            WITH moved AS (DELETE FROM messages WHERE room_id = \(room) AND seq <= \(seq) RETURNING *)
            INSERT INTO messages_archive SELECT moved.*, now() FROM moved
            """, logger: logger)
    }

    /// How many rows `sql` counts.
    func count(_ sql: PostgresQuery) async throws -> Int {
        for try await value in try await postgres.query(sql, logger: logger).decode(Int.self) { return value }
        throw HarnessError.setup
    }

    /// An upload row owned by `user`.
    func upload(by user: TestUsers.User) async throws -> UUID {
        for try await id in try await postgres.query(
            """
            INSERT INTO file_metadata (name, size, mime_type, url, uploaded_by)
            VALUES ('notes.txt', 12, 'text/plain', '/files/notes.txt', \(user.id)) RETURNING id
            """, logger: logger
        ).decode(UUID.self) {
            return id
        }
        throw HarnessError.setup
    }
}

enum HarnessError: Error {
    case setup
    case unexpected(Int, String)
}

/// The messages application in-process over real HTTP.
/// `accessCache`, when given, is the service's room access cache (a test observes it).
func withMessagesService(
    _ overrides: [String: String] = [:],
    accessCache: RoomAccessCache? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol, MessageFixtures) async throws -> Void
) async throws {
    let variables = TestEnvironment.serviceVariables(["RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000"].merging(overrides) { $1 })
    let configuration = try MessagesConfiguration(environment: EnvironmentReader(variables))
    let cache = accessCache ?? RoomAccessCache(timeToLive: configuration.accessCacheTTL, capacity: configuration.accessCacheCapacity)
    let application = try await buildApplication(configuration: configuration, logger: TestEnvironment.logger("messages"), accessCache: cache)
    try await ScratchDatabase.withClient(configuration.service.database) { postgres, logger in
        let users = try await TestUsers(client: postgres, keyFile: variables["JWT_KEY_FILE"]!, logger: logger)
        try await application.test(.live) { client in
            try await body(client, MessageFixtures(users: users, postgres: postgres, logger: logger))
        }
    }
}

extension TestClientProtocol {
    /// Sends `content` to `room` as `user`, expecting 201.
    @discardableResult
    func post(_ content: String, to room: UUID, as user: TestUsers.User) async throws -> MessageDTO {
        try await call(.post, "/api/v1/messages", as: user, json: ["roomId": room.uuidString, "content": content]) { response in
            guard response.status == .created else { throw HarnessError.unexpected(response.status.code, String(buffer: response.body)) }
            return try response.json(MessageDTO.self)
        }
    }

    /// A page of history.
    func page(_ room: UUID, _ query: String, as user: TestUsers.User) async throws -> HistoryBody {
        try await call(.get, "/api/v1/rooms/\(room)/messages?\(query)", as: user) { response in
            guard response.status == .ok else { throw HarnessError.unexpected(response.status.code, String(buffer: response.body)) }
            return try response.json(HistoryBody.self)
        }
    }
}

struct HistoryBody: Decodable {
    var data: [MessageDTO]
    var total: Int
    var hasMore: Bool
}
