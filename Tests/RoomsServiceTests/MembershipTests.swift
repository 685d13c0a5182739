import Foundation
import HummingbirdTesting
import NIOCore
import PostgresNIO
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowRedis

@Suite(.timeLimit(.minutes(3))) struct MembershipTests {
    @Test func joiningByCodeAndCreatingRoomsAreRateLimitedPerUser() async throws {
        try await withRoomsService(["RATE_LIMIT_ROOM_JOIN_PER_MINUTE": "3", "RATE_LIMIT_ROOM_CREATE_PER_HOUR": "2"]) { client, users in
            let owner = try await users.make("rlown")
            let guesser = try await users.make("rlg")
            let room = try await client.createRoom(as: owner)
            _ = try await client.createRoom(as: owner)
            try await client.call(.post, "/api/v1/rooms", as: owner, json: ["name": "one too many"]) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.errorBody?.code == "RATE_LIMITED")
                #expect(response.headers[.retryAfter] != nil)
            }
            // Wrong codes count like right ones: after three guesses even the right code must wait.
            var statuses: [Int] = []
            for code in ["QQQQ2222", "QQQQ3333", "QQQQ4444", room.code] {
                try await client.call(.post, "/api/v1/rooms/\(code)/join", as: guesser) { response in statuses.append(response.status.code) }
            }
            #expect(statuses == [404, 404, 404, 429])
            // Someone else is not held up by it.
            try await client.joinRoom(room.code, as: try await users.make("rlother"))
        }
    }

    @Test func leavingPassesAdminToTheLongestStandingMemberAndEmptyRoomsGoInactive() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("own")
            let first = try await users.make("first")
            let second = try await users.make("second")
            let room = try await client.createRoom(as: owner)
            try await client.joinRoom(room.code, as: first)
            try await client.joinRoom(room.code, as: second)

            try await client.call(.post, "/api/v1/rooms/\(room.id)/leave", as: owner) { response in #expect(response.status == .ok) }
            try await client.call(.get, "/api/v1/rooms/\(room.id)/members", as: first) { response throws in
                let members = try response.json(MembersBody.self).members
                #expect(members.map(\.userId) == [first.id.lowercased, second.id.lowercased])
                #expect(members.map(\.role) == ["admin", "member"])
            }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/leave", as: owner) { response in #expect(response.status == .notFound) }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/leave", as: first) { response in #expect(response.status == .ok) }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/leave", as: second) { response in #expect(response.status == .ok) }
            try await client.call(.post, "/api/v1/rooms/\(room.code)/join", as: owner) { response in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "ROOM_INACTIVE")
            }
        }
    }

    @Test func aDormantRoomStillHasItsMembersAndAJoinWakesItUp() async throws {
        try await withRoomsService { client, users, postgres in
            let owner = try await users.make("own")
            let newcomer = try await users.make("new")
            let room = try await client.createRoom(as: owner)
            // The idle-rooms job made it dormant: inactive, but still with its members.
            try await postgres.query(
                "UPDATE rooms SET is_active = false WHERE id = \(UUID(uuidString: room.id)!)", logger: TestEnvironment.logger())
            try await client.joinRoom(room.code, as: newcomer)
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: newcomer) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(RoomDTO.self).isActive == true)
            }
        }
    }

    @Test func adminsChangeRolesAndKickButNeverLeaveARoomWithoutAdmin() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("own")
            let member = try await users.make("mem")
            let room = try await client.createRoom(as: owner, ["settings": AnyEncodable(["isPublic": false])])
            try await client.joinRoom(room.code, as: member)
            let ownerPath = "/api/v1/rooms/\(room.id)/members/\(owner.id)"
            let memberPath = "/api/v1/rooms/\(room.id)/members/\(member.id)"

            try await client.call(.patch, ownerPath, as: member, json: ["role": "member"]) { response in #expect(response.status == .forbidden) }
            try await client.call(.patch, ownerPath, as: owner, json: ["role": "member"]) { response in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "LAST_ADMIN")
            }
            try await client.call(.patch, memberPath, as: owner, json: ["role": "owner"]) { response in #expect(response.status == .badRequest) }
            try await client.call(.patch, memberPath, as: owner, json: ["role": "admin"]) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(MemberDTO.self).role == "admin")
            }
            try await client.call(.patch, memberPath, as: owner, json: ["role": "member"]) { response in #expect(response.status == .ok) }
            try await client.call(.delete, ownerPath, as: owner) { response in #expect(response.status == .unprocessableContent) }
            try await client.call(.delete, "/api/v1/rooms/\(room.id)/members/\(UUID())", as: owner) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.delete, memberPath, as: owner) { response in #expect(response.status == .ok) }
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: member) { response in #expect(response.status == .notFound) }
        }
    }

    @Test func approvalRoomsQueueRequestsForAdmins() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("own")
            let asker = try await users.make("ask")
            let refused = try await users.make("nope")
            let room = try await client.createRoom(as: owner, ["settings": AnyEncodable(["requireApproval": true])])
            for user in [asker, refused] {
                try await client.call(.post, "/api/v1/rooms/\(room.code)/join", as: user) { response throws in
                    #expect(response.status == .accepted)
                    #expect(String(buffer: response.body).contains("\"pending\""))
                }
            }
            try await client.call(.get, "/api/v1/rooms/\(room.id)/requests", as: asker) { response in #expect(response.status == .forbidden) }
            let requests = try await client.call(.get, "/api/v1/rooms/\(room.id)/requests", as: owner) { response throws in
                try response.json(RequestsBody.self).requests
            }
            #expect(requests.map(\.userId).sorted() == [asker.id.lowercased, refused.id.lowercased].sorted())
            let askerRequest = try #require(requests.first { $0.userId == asker.id.lowercased })
            let refusedRequest = try #require(requests.first { $0.userId == refused.id.lowercased })
            try await client.call(.post, "/api/v1/rooms/\(room.id)/requests/\(askerRequest.id)/approve", as: owner) { response in
                #expect(response.status == .ok)
            }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/requests/\(refusedRequest.id)/reject", as: owner) { response in
                #expect(response.status == .ok)
            }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/requests/\(askerRequest.id)/approve", as: owner) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.get, "/api/v1/rooms/\(room.id)/members", as: owner) { response throws in
                #expect(Set(try response.json(MembersBody.self).members.map(\.userId)) == [owner.id.lowercased, asker.id.lowercased])
            }
        }
    }

    @Test func aGuestsRequestCannotBeApprovedOnceGuestsAreTurnedOff() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("gown")
            let guest = try await users.make("gask", kind: .guest)
            let room = try await client.createRoom(
                as: owner, ["settings": AnyEncodable(["requireApproval": true, "allowGuests": true])])
            try await client.call(.post, "/api/v1/rooms/\(room.code)/join", as: guest) { response in
                #expect(response.status == .accepted)
            }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: owner, json: ["settings": ["allowGuests": false]]) { response in
                #expect(response.status == .ok)
            }
            let requests = try await client.call(.get, "/api/v1/rooms/\(room.id)/requests", as: owner) { response throws in
                try response.json(RequestsBody.self).requests
            }
            let request = try #require(requests.first)
            try await client.call(.post, "/api/v1/rooms/\(room.id)/requests/\(request.id)/approve", as: owner) { response in
                #expect(response.status == .forbidden)
            }
            // Still pending, and the guest is not a member; the admin can reject it.
            try await client.call(.get, "/api/v1/rooms/\(room.id)/members", as: owner) { response throws in
                #expect(try response.json(MembersBody.self).members.map(\.userId) == [owner.id.lowercased])
            }
            try await client.call(.post, "/api/v1/rooms/\(room.id)/requests/\(request.id)/reject", as: owner) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func changesArePublishedAsTypedEvents() async throws {
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            try await withRoomsService { client, users in
                let owner = try await users.make("ev")
                let member = try await users.make("evm")
                let room = try await client.createRoom(as: owner)
                let events = try await subscriber.subscribe([RoomEvent.channel(for: UUID(uuidString: room.id)!)])
                try await client.joinRoom(room.code, as: member)
                try await client.call(.delete, "/api/v1/rooms/\(room.id)/members/\(member.id)", as: owner) { response in
                    #expect(response.status == .ok)
                }
                let received = try await events.roomEvents(2)
                #expect(received.map(\.type) == [.memberJoined, .memberKicked])
                #expect(received.allSatisfy { $0.version == 1 && $0.roomId == room.id })
                #expect(received[0].member?.userId == member.id.lowercased)
                #expect(received[1].userId == member.id.lowercased)
                #expect(received[1].actorId == owner.id.lowercased)
            }
            await subscriber.shutdown()
            group.cancelAll()
        }
    }
}

struct MembersBody: Decodable {
    var members: [MemberDTO]
}

struct RequestsBody: Decodable {
    struct Entry: Decodable {
        var id: String
        var userId: String
        var status: String
    }
    var requests: [Entry]
}

extension MembershipTests {
    @Test func guestsJoinOnlyRoomsThatAllowThemAndCreateNone() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("host")
            let guest = try await users.make("guest", kind: .guest)
            let open = try await client.createRoom(as: owner, ["settings": AnyEncodable(["allowGuests": true])])
            let closed = try await client.createRoom(as: owner)
            try await client.joinRoom(open.code, as: guest)
            try await client.call(.post, "/api/v1/rooms/\(closed.code)/join", as: guest) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.post, "/api/v1/rooms", as: guest, json: ["name": "mine"]) { response in
                #expect(response.status == .forbidden)
            }
        }
    }
}
