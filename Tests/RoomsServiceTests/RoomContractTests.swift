import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

/// Where the rooms API and its description could disagree: `null` for a value the description
/// types as boolean, string or integer; methods a path does not have.
@Suite(.timeLimit(.minutes(3))) struct RoomContractTests {
    static func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, as user: TestUsers.User, raw: String
    ) async throws -> TestResponse {
        try await client.execute(
            uri: uri, method: method, headers: [.authorization: "Bearer \(user.token)", .contentType: "application/json"],
            body: ByteBuffer(string: raw)
        ) { $0 }
    }

    @Test func nullIsRefusedWhereAValueIsDescribed() async throws {
        try await withRoomsService { client, users in
            let alice = try await users.make("nul")
            for (raw, field) in [
                (#"{"name": "n", "settings": {"recordMessages": null}}"#, "settings.recordMessages"),
                (#"{"name": "n", "settings": {"isPublic": null}}"#, "settings.isPublic"),
                (#"{"name": "n", "description": null}"#, "description"),
                (#"{"name": "n", "maxUsers": null}"#, "maxUsers"),
                (#"{"name": "n", "settings": null}"#, "settings"),
            ] {
                let response = try await Self.send(client, .post, "/api/v1/rooms", as: alice, raw: raw)
                #expect(response.status == .badRequest, "\(raw)")
                #expect(response.errorBody?.details?[field] != nil, "\(raw)")
            }
            let room = try await client.createRoom(as: alice, ["name": AnyEncodable("kept")])
            let patched = try await Self.send(
                client, .patch, "/api/v1/rooms/\(room.id)", as: alice, raw: #"{"settings": {"requireApproval": null}}"#)
            #expect(patched.status == .badRequest)
            let fine = try await Self.send(
                client, .post, "/api/v1/rooms", as: alice, raw: #"{"name": "n", "settings": {"recordMessages": false}}"#)
            #expect(fine.status == .created)
            #expect(try fine.json(RoomDTO.self).settings.recordMessages == false)
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await withRoomsService { client, users in
            let alice = try await users.make("trace")
            let room = try await client.createRoom(as: alice, ["name": AnyEncodable("m")])
            for (method, path, allow) in [
                (HTTPRequest.Method.trace, "/api/v1/rooms", "GET, POST"),
                (.put, "/api/v1/rooms/\(room.id)", "DELETE, GET, PATCH"),
                (.trace, "/api/v1/rooms/\(room.id)/members/\(alice.id)", "DELETE, PATCH"),
                (.get, "/api/v1/rooms/\(room.code)/join", "POST"),
            ] {
                try await client.call(method, path, as: alice) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.errorBody?.code == "METHOD_NOT_ALLOWED")
                    #expect(response.headers[.allow] == allow, "\(method) \(path)")
                }
            }
            try await client.call(.trace, "/api/v1/nowhere", as: alice) { response in #expect(response.status == .notFound) }
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: alice) { response in #expect(response.status == .ok) }
        }
    }
}
