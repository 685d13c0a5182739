import Foundation
import PostgresNIO
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RoomsService
import TestSupport
import VoiceFlowCommon

/// The rooms application in-process over real HTTP, with users made in the same database.
func withRoomsService(
    _ overrides: [String: String] = [:],
    _ body: @escaping @Sendable (any TestClientProtocol, TestUsers) async throws -> Void
) async throws {
    try await withRoomsService(overrides) { client, users, _ in try await body(client, users) }
}

/// The rooms application in-process over real HTTP, with a database client for direct changes.
func withRoomsService(
    _ overrides: [String: String] = [:],
    _ body: @escaping @Sendable (any TestClientProtocol, TestUsers, PostgresClient) async throws -> Void
) async throws {
    let variables = TestEnvironment.serviceVariables(overrides)
    let configuration = try RoomsConfiguration(environment: EnvironmentReader(variables))
    let application = try await buildApplication(configuration: configuration, logger: TestEnvironment.logger("rooms"))
    try await ScratchDatabase.withClient(configuration.service.database) { postgres, logger in
        let users = try await TestUsers(client: postgres, keyFile: variables["JWT_KEY_FILE"]!, logger: logger)
        try await application.test(.live) { client in try await body(client, users, postgres) }
    }
}

extension TestClientProtocol {
    /// Creates a room as `user` and returns it.
    func createRoom(as user: TestUsers.User, _ body: [String: AnyEncodable] = [:]) async throws -> RoomDTO {
        var payload = body
        if payload["name"] == nil { payload["name"] = AnyEncodable("Room \(TestEnvironment.uniqueSuffix())") }
        return try await call(.post, "/api/v1/rooms", as: user, json: payload) { response in
            guard response.status == .created else { throw HarnessError.unexpected(response.status.code, String(buffer: response.body)) }
            return try response.json(RoomDTO.self)
        }
    }

    /// Joins by code as `user`, expecting 200.
    func joinRoom(_ code: String, as user: TestUsers.User) async throws {
        try await call(.post, "/api/v1/rooms/\(code)/join", as: user) { response in
            guard response.status == .ok else { throw HarnessError.unexpected(response.status.code, String(buffer: response.body)) }
        }
    }
}

/// Any encodable value, for heterogeneous JSON bodies.
struct AnyEncodable: Encodable, @unchecked Sendable {
    // @unchecked: wraps only the immutable value types tests build bodies from.
    private let encodeValue: (any Encoder) throws -> Void
    init(_ value: some Encodable) { encodeValue = value.encode }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}

enum HarnessError: Error {
    case unexpected(Int, String)
}
