import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowRedis

@Suite(.timeLimit(.minutes(3))) struct MessageTests {
    @Test func membersSendAndOthersCannot() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("alice")
            let bob = try await fixtures.users.make("bob")
            let outsider = try await fixtures.users.make("out")
            let room = try await fixtures.room(admin: alice, members: [bob])
            let message = try await client.post("  hello there  ", to: room, as: bob)
            #expect(message.content == "hello there")
            #expect(message.seq == 1)
            #expect(message.type == "text")
            #expect(message.author?.id == bob.id.uuidString.lowercased())
            #expect(message.roomId == room.uuidString.lowercased())

            try await client.call(.post, "/api/v1/messages", as: outsider, json: ["roomId": room.uuidString, "content": "hi"]) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.get, "/api/v1/rooms/\(room)/messages", as: outsider) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.post, "/api/v1/messages", as: nil, json: ["roomId": room.uuidString, "content": "hi"]) { response in
                #expect(response.status == .unauthorized)
            }
            let upload = try await fixtures.upload(by: alice)
            let bobsText = try await fixtures.upload(by: bob)
            let combining = "e" + String(repeating: "\u{301}", count: 4000)  // one character, 4001 code points
            let invalid: [[String: String]] = [
                ["roomId": room.uuidString, "content": combining],
                ["roomId": room.uuidString, "content": "   "],
                ["roomId": room.uuidString, "content": String(repeating: "x", count: 4001)],
                ["roomId": room.uuidString, "content": "x", "type": "system"],
                ["roomId": room.uuidString, "content": "x", "type": "poll"],
                ["roomId": "not-a-uuid", "content": "x"],
                ["roomId": room.uuidString, "content": "x", "fileId": "nope"],
                ["content": "x"],
                ["roomId": room.uuidString, "content": "nul \u{0} inside"],
            ]
            for body in invalid {
                try await client.call(.post, "/api/v1/messages", as: bob, json: body) { response in
                    #expect(response.status == .badRequest, "\(body.keys.sorted())")
                    #expect(response.errorBody?.code == "VALIDATION_FAILED")
                }
            }
            // As the description says, but refused by rules it cannot state: 422.
            let refused: [[String: String]] = [
                ["roomId": room.uuidString, "content": "x", "type": "file"],  // no file
                ["roomId": room.uuidString, "content": "x", "type": "voice_note"],
                ["roomId": room.uuidString, "content": "x", "type": "text", "fileId": bobsText.uuidString],
                ["roomId": room.uuidString, "content": "x", "type": "voice_note", "fileId": bobsText.uuidString],  // not audio
                ["roomId": room.uuidString, "content": "x", "fileId": upload.uuidString],  // alice's upload, sent by bob
            ]
            for body in refused {
                try await client.call(.post, "/api/v1/messages", as: bob, json: body) { response in
                    #expect(response.status == .unprocessableContent, "\(body.keys.sorted())")
                    #expect(response.errorBody?.code == "VALIDATION_FAILED")
                    #expect(response.errorBody?.details?["fileId"] != nil)
                }
            }
            // Optional fields are left out or given a value; null is not a value the description allows.
            for field in ["fileId", "type"] {
                let body = ByteBuffer(string: #"{"roomId": "\#(room.uuidString)", "content": "x", "\#(field)": null}"#)
                try await client.execute(
                    uri: "/api/v1/messages", method: .post,
                    headers: [.authorization: "Bearer \(bob.token)", .contentType: "application/json"], body: body
                ) { response in
                    #expect(response.status == .badRequest, "\(field): null")
                    #expect(response.errorBody?.details?[field] != nil)
                }
            }
            let withFile = try await client.call(
                .post, "/api/v1/messages", as: alice, json: ["roomId": room.uuidString, "content": "see file", "fileId": upload.uuidString]
            ) { try $0.json(MessageDTO.self) }
            #expect(withFile.type == "file")
            #expect(withFile.file?.name == "notes.txt")
            #expect(try await client.post(String(repeating: "é", count: 4000), to: room, as: bob).content.count == 4000)
            let atTheLimit = "e" + String(repeating: "\u{301}", count: 3999)
            #expect(try await client.post(atTheLimit, to: room, as: bob).content.storedLength == 4000)
        }
    }

    @Test func historyPagesWithoutDuplicatesOrGapsWhileMessagesArrive() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("hist")
            let room = try await fixtures.room(admin: alice)
            for index in 1...120 { try await client.post("m\(index)", to: room, as: alice) }

            // Backwards with `before`, while new messages keep arriving.
            var seen: [Int] = []
            var page = try await client.page(room, "limit=25", as: alice)
            #expect(page.total == 120)
            seen += page.data.compactMap(\.seq)
            var extra = 0
            while page.hasMore, let oldest = page.data.last?.seq {
                try await client.post("late \(extra)", to: room, as: alice)
                extra += 1
                page = try await client.page(room, "before=\(oldest)&limit=25", as: alice)
                seen += page.data.compactMap(\.seq)
            }
            #expect(seen == Array((1...120).reversed()))

            // Forwards with `after`: everything after seq 100, oldest first, including the late ones.
            var caughtUp: [Int] = []
            var cursor = 100
            repeat {
                page = try await client.page(room, "after=\(cursor)&limit=7", as: alice)
                caughtUp += page.data.compactMap(\.seq)
                cursor = page.data.last?.seq ?? cursor
            } while page.hasMore
            #expect(caughtUp == Array(101...(120 + extra)))
            #expect(page.data.last?.content == "late \(extra - 1)")

            for query in ["limit=0", "limit=101", "before=abc", "after=-1", "page=0", "page=x", "page=100001"] {
                try await client.call(.get, "/api/v1/rooms/\(room)/messages?\(query)", as: alice) { response in
                    #expect(response.status == .badRequest, "\(query)")
                }
            }
            // Each parameter as described, but they do not go together: 422.
            for query in ["before=5&after=2", "page=2&before=5"] {
                try await client.call(.get, "/api/v1/rooms/\(room)/messages?\(query)", as: alice) { response in
                    #expect(response.status == .unprocessableContent, "\(query)")
                    #expect(response.errorBody?.code == "VALIDATION_FAILED")
                }
            }
        }
    }

    @Test func concurrentSendersGetEverySequenceNumberOnce() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("ca")
            let bob = try await fixtures.users.make("cb")
            let room = try await fixtures.room(admin: alice, members: [bob])
            let seqs = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<60 {
                    group.addTask { try await client.post("c\(index)", to: room, as: index.isMultiple(of: 2) ? alice : bob).seq }
                }
                return try await group.reduce(into: [Int]()) { if let seq = $1 { $0.append(seq) } }
            }
            #expect(seqs.sorted() == Array(1...60))
        }
    }

    @Test func editsAndDeletesObeyRoles() async throws {
        try await withMessagesService { client, fixtures in
            let admin = try await fixtures.users.make("adm")
            let author = try await fixtures.users.make("aut")
            let other = try await fixtures.users.make("oth")
            let room = try await fixtures.room(admin: admin, members: [author, other])
            let first = try await client.post("first", to: room, as: author)
            let second = try await client.post("second", to: room, as: author)

            try await client.call(.patch, "/api/v1/messages/\(first.id)", as: other, json: ["content": "hijack"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.patch, "/api/v1/messages/\(first.id)", as: admin, json: ["content": "admin edit"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.patch, "/api/v1/messages/\(first.id)", as: author, json: ["content": "first, edited"]) { response throws in
                #expect(response.status == .ok)
                let edited = try response.json(MessageDTO.self)
                #expect(edited.content == "first, edited")
                #expect(edited.editedAt != nil)
                #expect(edited.seq == first.seq)
            }
            try await client.call(.patch, "/api/v1/messages/\(first.id)", as: author, json: ["content": ""]) { response in
                #expect(response.status == .badRequest)
            }
            try await client.call(.delete, "/api/v1/messages/\(first.id)", as: other) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.delete, "/api/v1/messages/\(first.id)", as: author) { response in #expect(response.status == .ok) }
            try await client.call(.delete, "/api/v1/messages/\(second.id)", as: admin) { response in #expect(response.status == .ok) }
            try await client.call(.delete, "/api/v1/messages/\(second.id)", as: admin) { response in #expect(response.status == .notFound) }
            try await client.call(.patch, "/api/v1/messages/\(second.id)", as: author, json: ["content": "back"]) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.delete, "/api/v1/messages/\(UUID())", as: author) { response in #expect(response.status == .notFound) }
            try await client.call(.delete, "/api/v1/messages/nope", as: author) { response in #expect(response.status == .badRequest) }

            // Deleted messages stay as tombstones, so sequences have no holes.
            let history = try await client.page(room, "after=0", as: other)
            #expect(history.data.map(\.seq) == [1, 2])
            #expect(history.data.allSatisfy { $0.deletedAt != nil && $0.content.isEmpty })
            #expect(history.total == 0)
        }
    }

    /// Page numbers are served from sequence numbers, however deep, across the archive, and the
    /// total is the room's kept count, not a count over its history.
    @Test func deepPagesAndTheTotalOfALongRoom() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("deep")
            let room = try await fixtures.room(admin: alice)
            // 5,000 messages, the oldest 3,000 archived: a room with a long past.
            try await fixtures.postgres.query(
                """
                WITH counted AS (
                  UPDATE rooms SET last_message_seq = 5000, message_count = 5000 WHERE id = \(room) RETURNING id
                ), live AS (
                  INSERT INTO messages (room_id, user_id, content, seq)
                  SELECT id, \(alice.id), 'm' || n, n FROM counted, generate_series(3001, 5000) n RETURNING 1
                )
                INSERT INTO messages_archive (id, room_id, user_id, content, type, created_at, updated_at, seq)
                SELECT gen_random_uuid(), id, \(alice.id), 'm' || n, 'text', now(), now(), n FROM counted, generate_series(1, 3000) n
                """, logger: fixtures.logger)

            var page = try await client.page(room, "page=90&limit=50", as: alice)
            #expect(page.data.compactMap(\.seq) == Array((501...550).reversed()))
            #expect(page.data.first?.content == "m550")
            #expect(page.total == 5000)
            #expect(page.hasMore)
            page = try await client.page(room, "page=41&limit=50", as: alice)
            #expect(page.data.compactMap(\.seq) == Array((2951...3000).reversed()))
            page = try await client.page(room, "page=40&limit=50", as: alice)
            #expect(page.data.compactMap(\.seq) == Array((3001...3050).reversed()))
            page = try await client.page(room, "page=100&limit=50", as: alice)
            #expect(page.data.compactMap(\.seq) == Array((1...50).reversed()))
            #expect(!page.hasMore)
            // The deepest page there can be is answered, empty, from the index.
            for query in ["page=101&limit=50", "page=100000&limit=100"] {
                page = try await client.page(room, query, as: alice)
                #expect(page.data.isEmpty)
                #expect(!page.hasMore)
                #expect(page.total == 5000)
            }
            try await client.call(.get, "/api/v1/rooms/\(room)/messages?page=100001&limit=100", as: alice) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.details?["page"] != nil)
            }
            // The total is the room's count, kept by sends and deletes, never a count(*) of the room.
            let sent = try await client.post("newest", to: room, as: alice)
            #expect(sent.seq == 5001)
            try await client.call(.delete, "/api/v1/messages/\(sent.id)", as: alice) { response in #expect(response.status == .ok) }
            try await fixtures.postgres.query("UPDATE rooms SET message_count = message_count + 7 WHERE id = \(room)", logger: fixtures.logger)
            page = try await client.page(room, "limit=1", as: alice)
            #expect(page.total == 5007)
            page = try await client.page(room, "after=4999&limit=5", as: alice)
            #expect(page.total == 5007)
            #expect(page.data.compactMap(\.seq) == [5000, 5001])
        }
    }

    @Test func archivedMessagesStayInHistoryAndCanBeEditedOrDeleted() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("arch")
            let bob = try await fixtures.users.make("archb")
            let room = try await fixtures.room(admin: alice, members: [bob])
            var sent: [MessageDTO] = []
            for index in 1...50 { sent.append(try await client.post("m\(index)", to: room, as: index.isMultiple(of: 2) ? bob : alice)) }
            try await fixtures.archive(room, through: 30)
            #expect(try await fixtures.count("SELECT count(*)::int FROM messages_archive WHERE room_id = \(room)") == 30)

            // Backwards across the boundary: every message once, newest first.
            var seen: [Int] = []
            var page = try await client.page(room, "limit=25", as: bob)
            #expect(page.total == 50)
            seen += page.data.compactMap(\.seq)
            while page.hasMore, let oldest = page.data.last?.seq {
                page = try await client.page(room, "before=\(oldest)&limit=25", as: bob)
                seen += page.data.compactMap(\.seq)
            }
            #expect(seen == Array((1...50).reversed()))
            // The guide's page numbers work too, across the boundary.
            page = try await client.page(room, "page=2&limit=20", as: bob)
            #expect(page.data.compactMap(\.seq) == Array((11...30).reversed()))
            #expect(page.hasMore)
            page = try await client.page(room, "page=3&limit=20", as: bob)
            #expect(page.data.compactMap(\.seq) == Array((1...10).reversed()))
            #expect(!page.hasMore)
            // Forwards from inside the archive (a client catching up after a long absence).
            page = try await client.page(room, "after=10&limit=100", as: bob)
            #expect(page.data.compactMap(\.seq) == Array(11...50))
            #expect(page.data.first?.content == "m11")
            #expect(page.data.first?.author?.id == alice.id.uuidString.lowercased())

            // An archived message is still its author's to edit and delete.
            let old = sent[4]
            try await client.call(.patch, "/api/v1/messages/\(old.id)", as: bob, json: ["content": "hijack"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.call(.patch, "/api/v1/messages/\(old.id)", as: alice, json: ["content": "m5, edited"]) { response throws in
                #expect(response.status == .ok)
                let edited = try response.json(MessageDTO.self)
                #expect(edited.content == "m5, edited")
                #expect(edited.editedAt != nil)
                #expect(edited.seq == 5)
            }
            try await client.call(.delete, "/api/v1/messages/\(sent[5].id)", as: bob) { response in #expect(response.status == .ok) }
            try await client.call(.delete, "/api/v1/messages/\(sent[5].id)", as: bob) { response in #expect(response.status == .notFound) }
            page = try await client.page(room, "after=4&limit=2", as: alice)
            #expect(page.data.map(\.content) == ["m5, edited", ""])
            #expect(page.data.last?.deletedAt != nil)
            #expect(page.total == 49)
            #expect(try await fixtures.count("SELECT count(*)::int FROM messages WHERE room_id = \(room)") == 20)

            // Deleting the room takes its archived messages with it.
            try await fixtures.postgres.query("DELETE FROM rooms WHERE id = \(room)", logger: fixtures.logger)
            #expect(try await fixtures.count("SELECT count(*)::int FROM messages_archive WHERE room_id = \(room)") == 0)
        }
    }

    @Test func aDormantRoomWakesUpWhenAMemberPosts() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("alice")
            let room = try await fixtures.room(admin: alice)
            try await client.post("before the quiet", to: room, as: alice)
            // The idle-rooms job made it dormant: inactive, but still with its members.
            try await fixtures.postgres.query(
                "UPDATE rooms SET is_active = false, last_activity = now() - interval '90 days' WHERE id = \(room)", logger: fixtures.logger)
            let message = try await client.post("anyone here?", to: room, as: alice)
            #expect(message.seq == 2)
            for try await (isActive, recent) in try await fixtures.postgres.query(
                "SELECT is_active, last_activity > now() - interval '1 minute' FROM rooms WHERE id = \(room)", logger: fixtures.logger
            ).decode((Bool, Bool).self) {
                #expect(isActive)
                #expect(recent)
            }
        }
    }

    /// A room's activity moves with a message only once it is more than 5 s old, so that a busy
    /// room's row update changes no indexed column (and stays heap-only).
    @Test func activityMovesOnlyOnceItIsStale() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("busy")
            let room = try await fixtures.room(admin: alice)
            func lastActivity() async throws -> Date {
                var found: Date?
                for try await (activity,) in try await fixtures.postgres.query(
                    "SELECT last_activity FROM rooms WHERE id = \(room)", logger: fixtures.logger
                ).decode((Date,).self) { found = activity }
                return try #require(found)
            }
            // Fresh (set 2 s ago): a message leaves it as it is.
            try await fixtures.postgres.query(
                "UPDATE rooms SET last_activity = now() - interval '2 seconds' WHERE id = \(room)", logger: fixtures.logger)
            let fresh = try await lastActivity()
            try await client.post("one", to: room, as: alice)
            #expect(try await lastActivity() == fresh)
            // Stale (set 6 s ago): the next message moves it to now.
            try await fixtures.postgres.query(
                "UPDATE rooms SET last_activity = now() - interval '6 seconds' WHERE id = \(room)", logger: fixtures.logger)
            let stale = try await lastActivity()
            try await client.post("two", to: room, as: alice)
            #expect(try await lastActivity().timeIntervalSince(stale) > 5)
        }
    }

    @Test func unrecordedRoomsDeliverButDoNotStore() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("off")
            let room = try await fixtures.room(admin: alice, recordMessages: false)
            let message = try await client.post("ephemeral", to: room, as: alice)
            #expect(message.seq == nil)
            #expect(message.author?.username == alice.username)
            let history = try await client.page(room, "limit=10", as: alice)
            #expect(history.data.isEmpty)
            // Nothing is stored, so a file could not be downloaded through the message: refused.
            let upload = try await fixtures.upload(by: alice)
            try await client.call(
                .post, "/api/v1/messages", as: alice, json: ["roomId": room.uuidString, "content": "x", "fileId": upload.uuidString]
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.errorBody?.message.contains("does not record") == true)
            }
        }
    }

    @Test func sendingIsRateLimitedPerUser() async throws {
        try await withMessagesService(["RATE_LIMIT_MESSAGES_PER_MINUTE": "3"]) { client, fixtures in
            let alice = try await fixtures.users.make("fast")
            let room = try await fixtures.room(admin: alice)
            var statuses: [Int] = []
            for index in 0..<4 {
                try await client.call(.post, "/api/v1/messages", as: alice, json: ["roomId": room.uuidString, "content": "\(index)"]) { response in
                    statuses.append(response.status.code)
                }
            }
            #expect(statuses == [201, 201, 201, 429])
        }
    }

    @Test func messagesArePublishedAfterCommit() async throws {
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            try await withMessagesService { client, fixtures in
                let alice = try await fixtures.users.make("pub")
                let room = try await fixtures.room(admin: alice)
                let events = try await subscriber.subscribe([RoomEvent.channel(for: room)])
                let sent = try await client.post("published", to: room, as: alice)
                try await client.call(.patch, "/api/v1/messages/\(sent.id)", as: alice, json: ["content": "changed"]) { _ in }
                let received = try await events.roomEvents(2)
                #expect(received.map(\.type) == [.messageCreated, .messageEdited])
                #expect(received[0].message?.seq == 1)
                #expect(received[0].message?.content == "published")
                #expect(received[1].message?.content == "changed")
            }
            await subscriber.shutdown()
            group.cancelAll()
        }
    }
}
