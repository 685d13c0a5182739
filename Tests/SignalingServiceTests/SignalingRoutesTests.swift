import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport
import VoiceFlowCommon

/// The signaling service over HTTP: who may use a room's voice, and whose sessions one may change.
@Suite(.timeLimit(.minutes(2))) struct SignalingRoutesTests {
    static func start(_ room: UUID, gateway: String = "gw-routes", socket: String = SocketID.make()) -> VoiceSessionStart {
        VoiceSessionStart(roomId: room.uuidString.lowercased(), gatewayId: gateway, socketId: socket)
    }

    /// A start for a socket the gateway lists in presence (so no sweep, of this or a concurrent
    /// test's service, takes it for a closed socket or a dead gateway).
    static func start(_ room: UUID, for user: TestUsers.User, _ fixtures: SignalingFixtures) async throws -> VoiceSessionStart {
        let start = Self.start(room)
        try await fixtures.connect(user, socket: start.socketId, gateway: start.gatewayId)
        return start
    }

    @Test func membersOnlyAsForRoomJoin() async throws {
        try await withSignalingService { client, users, fixtures in
            let (admin, member, stranger) = (try await users.make("adm"), try await users.make("mem"), try await users.make("str"))
            let open = try await fixtures.room(admin: admin, members: [member])
            let hidden = try await fixtures.room(admin: admin, isPublic: false)
            let closed = try await fixtures.room(admin: admin, isActive: false)
            func status(_ method: HTTPRequest.Method, _ path: String, as user: TestUsers.User?, _ body: (any Encodable)? = nil) async throws
                -> (Int, String?)
            {
                try await client.call(method, path, as: user, json: body) { response in
                    (Int(response.status.code), try? response.json(ErrorBody.self).code)
                }
            }
            #expect(try await status(.get, "/api/v1/rooms/\(open)/voice", as: nil) == (401, "UNAUTHORIZED"))
            #expect(try await status(.get, "/api/v1/rooms/\(open)/voice", as: stranger) == (403, "FORBIDDEN"))
            #expect(try await status(.get, "/api/v1/rooms/\(hidden)/voice", as: stranger) == (404, "NOT_FOUND"))
            #expect(try await status(.get, "/api/v1/rooms/\(UUID())/voice", as: member) == (404, "NOT_FOUND"))
            #expect(try await status(.get, "/api/v1/rooms/not-an-id/voice", as: member) == (400, "VALIDATION_FAILED"))
            #expect(try await status(.post, "/internal/v1/voice/sessions", as: stranger, Self.start(open)) == (403, "FORBIDDEN"))
            #expect(try await status(.post, "/internal/v1/voice/sessions", as: admin, Self.start(closed)) == (409, "ROOM_INACTIVE"))
            #expect(try await status(.post, "/internal/v1/voice/sessions", as: member, Self.start(open, gateway: "gw/../x")) == (400, "VALIDATION_FAILED"))

            let start = try await Self.start(open, for: member, fixtures)
            let started = try await client.call(.post, "/internal/v1/voice/sessions", as: member, json: start) { response in
                #expect(response.status == .created)
                return try response.json(VoiceSessionStarted.self)
            }
            #expect(started.others.isEmpty)
            #expect(started.iceServers.map(\.urls) == [["stun:127.0.0.1:3478"], ["turn:127.0.0.1:3478?transport=udp"]])
            let listed = try await client.call(.get, "/api/v1/rooms/\(open)/voice", as: admin) { try $0.json(RoomVoiceDTO.self) }
            #expect(listed.participants == [started.session.participant])
            _ = try await client.call(.post, "/internal/v1/voice/sessions/\(started.session.sessionId)/end", as: member, json: VoiceSessionEnd(reason: .left)) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func onlyTheOwnerChangesOrEndsASessionAndOnlyItsRoomSeesIt() async throws {
        try await withSignalingService(["VOICE_MAX_PARTICIPANTS": "2"]) { client, users, fixtures in
            let (admin, member, third) = (try await users.make("adm"), try await users.make("mem"), try await users.make("thd"))
            let room = try await fixtures.room(admin: admin, members: [member, third])
            let elsewhere = try await fixtures.room(admin: third)
            func start(_ user: TestUsers.User, _ room: UUID) async throws -> VoiceSessionStarted {
                let start = try await Self.start(room, for: user, fixtures)
                return try await client.call(.post, "/internal/v1/voice/sessions", as: user, json: start) { try $0.json(VoiceSessionStarted.self) }
            }
            let mine = try await start(admin, room).session
            let theirs = try await start(member, room)
            #expect(theirs.others == [mine])
            // The third participant of a two-seat room.
            try await client.call(.post, "/internal/v1/voice/sessions", as: third, json: Self.start(room)) { response in
                #expect(response.status == .conflict)
                let code = try response.json(ErrorBody.self).code
                #expect(code == ErrorCode.voiceFull.rawValue)
            }
            try await client.call(.patch, "/internal/v1/voice/sessions/\(mine.sessionId)", as: member, json: VoiceSessionUpdate(muted: true)) {
                #expect($0.status == .notFound)
            }
            try await client.call(.post, "/internal/v1/voice/sessions/\(mine.sessionId)/end", as: member, json: VoiceSessionEnd(reason: .left)) {
                #expect($0.status == .notFound)
            }
            try await client.call(.patch, "/internal/v1/voice/sessions/\(mine.sessionId)", as: admin, json: VoiceSessionUpdate()) {
                #expect($0.status == .badRequest)
            }
            let muted = try await client.call(.patch, "/internal/v1/voice/sessions/\(mine.sessionId)", as: admin, json: VoiceSessionUpdate(muted: true)) {
                try $0.json(VoiceSession.self)
            }
            #expect(muted.muted && !muted.deafened)
            // A participant of the same room sees the session; a user in another room's voice does not.
            try await client.call(.get, "/internal/v1/voice/sessions/\(mine.sessionId)", as: member) { #expect($0.status == .ok) }
            _ = try await start(third, elsewhere)
            try await client.call(.get, "/internal/v1/voice/sessions/\(mine.sessionId)", as: third) { #expect($0.status == .notFound) }
            try await client.call(.post, "/internal/v1/voice/sessions/\(mine.sessionId)/end", as: admin, json: VoiceSessionEnd(reason: .left)) {
                #expect($0.status == .ok)
            }
            try await client.call(.post, "/internal/v1/voice/sessions/\(mine.sessionId)/end", as: admin, json: VoiceSessionEnd(reason: .left)) {
                #expect($0.status == .notFound)
            }
        }
    }
}
