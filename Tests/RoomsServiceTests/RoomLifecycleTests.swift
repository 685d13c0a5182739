import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct RoomLifecycleTests {
    @Test func createJoinAndSee() async throws {
        try await withRoomsService { client, users in
            let alice = try await users.make("alice")
            let bob = try await users.make("bob")
            let room = try await client.createRoom(as: alice, ["name": AnyEncodable("  Study group  "), "description": AnyEncodable("weekly")])
            #expect(room.name == "Study group")
            #expect(room.maxUsers == 100)
            #expect(room.settings == .defaults)
            #expect(room.code.count == 8)
            #expect(room.code.allSatisfy { "ABCDEFGHJKMNPQRSTVWXYZ23456789".contains($0) })
            #expect(room.participants?.map(\.role) == ["admin"])

            // Codes are case-insensitive; joining twice is harmless.
            for _ in 0..<2 {
                try await client.call(.post, "/api/v1/rooms/\(room.code.lowercased())/join", as: bob) { response throws in
                    #expect(response.status == .ok)
                    let body = try response.json(JoinBody.self)
                    #expect(body.roomId == room.id)
                    #expect(Set(body.participants.map(\.userId)) == [alice.id.lowercased, bob.id.lowercased])
                }
            }
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: bob) { response throws in
                #expect(response.status == .ok)
                let shown = try response.json(RoomDTO.self)
                #expect(shown.memberCount == 2)
                #expect(shown.participants?.first(where: { $0.userId == bob.id.lowercased })?.role == "member")
            }
            try await client.call(.post, "/api/v1/rooms/NOPE2345/join", as: bob) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: nil) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func invalidRoomsAreRefused() async throws {
        try await withRoomsService { client, users in
            let alice = try await users.make("val")
            let bad: [[String: AnyEncodable]] = [
                ["name": AnyEncodable("   ")], ["name": AnyEncodable(String(repeating: "n", count: 101))],
                ["name": AnyEncodable("ok"), "maxUsers": AnyEncodable(1)], ["name": AnyEncodable("ok"), "maxUsers": AnyEncodable(501)],
                ["name": AnyEncodable("ok"), "settings": AnyEncodable(["isPublic": "yes"])],
                ["name": AnyEncodable("ok"), "description": AnyEncodable(String(repeating: "d", count: 1001))],
            ]
            for body in bad {
                try await client.call(.post, "/api/v1/rooms", as: alice, json: body) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.errorBody?.code == "VALIDATION_FAILED")
                }
            }
            for uri in ["/api/v1/rooms?page=0", "/api/v1/rooms?limit=101", "/api/v1/rooms?limit=abc", "/api/v1/rooms?scope=everything"] {
                try await client.call(.get, uri, as: alice) { response in
                    #expect(response.status == .badRequest)
                }
            }
            try await client.call(.get, "/api/v1/rooms/not-a-uuid", as: alice) { response in
                #expect(response.status == .badRequest)
            }
            try await client.call(.get, "/api/v1/rooms/\(UUID())", as: alice) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func privateRoomsAreHiddenAndAdminsAloneChangeThem() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("own")
            let member = try await users.make("mem")
            let stranger = try await users.make("str")
            let room = try await client.createRoom(as: owner, ["settings": AnyEncodable(["isPublic": false])])
            try await client.joinRoom(room.code, as: member)
            for uri in ["/api/v1/rooms/\(room.id)", "/api/v1/rooms/\(room.id)/members"] {
                try await client.call(.get, uri, as: stranger) { response in #expect(response.status == .notFound) }
                try await client.call(.get, uri, as: member) { response in #expect(response.status == .ok) }
            }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: member, json: ["name": "mine now"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.delete, "/api/v1/rooms/\(room.id)", as: member) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: owner, json: ["maxUsers": AnyEncodable(2), "name": AnyEncodable("Renamed")]) { response throws in
                #expect(response.status == .ok)
                let updated = try response.json(RoomDTO.self)
                #expect(updated.name == "Renamed")
                #expect(updated.maxUsers == 2)
                #expect(updated.settings.isPublic == false)
            }
            // Two members: a third cannot join, and the limit cannot drop below two.
            let late = try await users.make("late")
            try await client.call(.post, "/api/v1/rooms/\(room.code)/join", as: late) { response in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "ROOM_FULL")
            }
            try await client.call(.delete, "/api/v1/rooms/\(room.id)", as: owner) { response in
                #expect(response.status == .ok)
            }
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: owner) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func concurrentJoinsNeverExceedTheLimit() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("cap")
            let room = try await client.createRoom(as: owner, ["maxUsers": AnyEncodable(3)])
            var joiners: [TestUsers.User] = []
            for _ in 0..<6 { joiners.append(try await users.make("j")) }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for joiner in joiners {
                    group.addTask {
                        try await client.call(.post, "/api/v1/rooms/\(room.code)/join", as: joiner) { $0.status.code }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 2)
            #expect(statuses.filter { $0 == 409 }.count == 4)
            try await client.call(.get, "/api/v1/rooms/\(room.id)", as: owner) { response throws in
                #expect(try response.json(RoomDTO.self).memberCount == 3)
            }
        }
    }

    @Test func listsArePagedAndScoped() async throws {
        try await withRoomsService { client, users in
            let user = try await users.make("list")
            for index in 0..<3 {
                _ = try await client.createRoom(as: user, ["name": AnyEncodable("List \(index)"), "settings": AnyEncodable(["isPublic": index != 0])])
            }
            try await client.call(.get, "/api/v1/rooms?page=1&limit=2", as: user) { response throws in
                let page = try response.json(PageBody.self)
                #expect(page.total == 3)
                #expect(page.data.count == 2)
                #expect(page.hasMore)
                #expect(page.limit == 2)
            }
            try await client.call(.get, "/api/v1/rooms?page=2&limit=2", as: user) { response throws in
                let page = try response.json(PageBody.self)
                #expect(page.data.count == 1)
                #expect(!page.hasMore)
            }
            let other = try await users.make("browse")
            try await client.call(.get, "/api/v1/rooms?scope=public&limit=100", as: other) { response throws in
                let page = try response.json(PageBody.self)
                #expect(page.data.allSatisfy { $0.settings.isPublic && $0.isActive })
                #expect(page.data.filter { $0.createdBy == user.id.lowercased }.count == 2)
            }
        }
    }
}

struct JoinBody: Decodable {
    var roomId: String
    var participants: [MemberDTO]
}

struct PageBody: Decodable {
    var data: [RoomDTO]
    var total: Int
    var page: Int
    var limit: Int
    var hasMore: Bool
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}

extension RoomLifecycleTests {
    @Test func maxUsersCannotDropBelowTheMemberCount() async throws {
        try await withRoomsService { client, users in
            let owner = try await users.make("cnt")
            let room = try await client.createRoom(as: owner)
            for _ in 0..<2 { try await client.joinRoom(room.code, as: try await users.make("m")) }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: owner, json: ["maxUsers": 2]) { response in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "CONFLICT")
            }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: owner, json: ["maxUsers": 3]) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(RoomDTO.self).maxUsers == 3)
            }
            try await client.call(.patch, "/api/v1/rooms/\(room.id)", as: owner, json: [String: String]()) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
