import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowRedis

@testable import MessagesService

/// A room access cache whose changes a test can await.
struct WatchedCache: Sendable {
    let cache: RoomAccessCache
    let changes: AsyncStream<RoomAccessCache.Change>

    init(timeToLive: Duration = .seconds(60)) {
        let (changes, continuation) = AsyncStream.makeStream(of: RoomAccessCache.Change.self)
        self.changes = changes
        self.cache = RoomAccessCache(timeToLive: timeToLive, capacity: 1000) { continuation.yield($0) }
    }

    /// Returns once `change` happened (changes before it are skipped).
    func wait(for change: RoomAccessCache.Change) async {
        for await seen in changes where seen == change { return }
    }
}

extension TestClientProtocol {
    /// Reads `room` as `user` until `watched` holds at least `count` answers. A load does not store
    /// its answer when any room's member event arrived meanwhile (the cache stays on the safe side),
    /// and other suites running at the same time publish such events; a few reads get past them.
    func warm(_ watched: WatchedCache, holding count: Int, room: UUID, as user: TestUsers.User) async throws {
        for _ in 0..<100 where watched.cache.count < count {
            _ = try await page(room, "limit=1", as: user)
        }
    }
}

extension MessageFixtures {
    /// Removes `user` from `room` as the rooms service's kick does (the event is published separately).
    func removeMember(_ user: TestUsers.User, from room: UUID) async throws {
        try await postgres.query("DELETE FROM room_users WHERE room_id = \(room) AND user_id = \(user.id)", logger: logger)
    }

    /// Publishes `event` as the rooms service does after its change committed.
    func publish(_ event: RoomEvent) async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: logger)
        await EventPublisher(redis: redis, logger: logger).publish(event)
        await redis.shutdown()
    }
}

@Suite(.timeLimit(.minutes(3))) struct RoomAccessTests {
    @Test func aKickedMemberIsRefusedRightAfterTheKick() async throws {
        let watched = WatchedCache()
        try await withMessagesService(accessCache: watched.cache) { client, fixtures in
            await watched.wait(for: .enabled)
            let alice = try await fixtures.users.make("kadm")
            let bob = try await fixtures.users.make("kick")
            let room = try await fixtures.room(admin: alice, members: [bob])
            try await client.post("before", to: room, as: bob)
            _ = try await client.page(room, "limit=10", as: bob)
            try await client.warm(watched, holding: 1, room: room, as: bob)
            #expect(watched.cache.count == 1)

            // The kick as the rooms service makes it: the membership goes, then the event.
            try await fixtures.removeMember(bob, from: room)
            try await fixtures.publish(RoomEvent(type: .memberKicked, roomId: room, actorId: alice.id, userId: bob.id))
            await watched.wait(for: .invalidated(room))
            #expect(watched.cache.count == 0)

            try await client.call(.get, "/api/v1/rooms/\(room)/messages", as: bob) { response in
                #expect(response.status == .notFound)
            }
            try await client.call(.post, "/api/v1/messages", as: bob, json: ["roomId": room.uuidString, "content": "after"]) { response in
                #expect(response.status == .notFound)
            }
            #expect(try await client.post("still here", to: room, as: alice).seq == 2)
            #expect(try await fixtures.count("SELECT message_count::int FROM rooms WHERE id = \(room)") == 2)
        }
    }

    @Test func aStaleCachedMemberCannotPostEvenBeforeTheEventArrives() async throws {
        let watched = WatchedCache()
        try await withMessagesService(accessCache: watched.cache) { client, fixtures in
            await watched.wait(for: .enabled)
            let alice = try await fixtures.users.make("sadm")
            let bob = try await fixtures.users.make("stale")
            let room = try await fixtures.room(admin: alice, members: [bob])
            try await client.post("before", to: room, as: bob)
            try await client.warm(watched, holding: 1, room: room, as: bob)
            #expect(watched.cache.count == 1)

            // No event at all: the cache still says member, the statement that stores says no.
            try await fixtures.removeMember(bob, from: room)
            try await client.call(.post, "/api/v1/messages", as: bob, json: ["roomId": room.uuidString, "content": "after"]) { response in
                #expect(response.status == .notFound)
            }
            #expect(try await fixtures.count("SELECT count(*)::int FROM messages WHERE room_id = \(room)") == 1)
            #expect(try await fixtures.count("SELECT last_message_seq::int FROM rooms WHERE id = \(room)") == 1)
            // The refusal also dropped the stale answer.
            try await client.call(.get, "/api/v1/rooms/\(room)/messages", as: bob) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func aClosedRoomRefusesWithRoomInactive() async throws {
        let watched = WatchedCache()
        try await withMessagesService(accessCache: watched.cache) { client, fixtures in
            await watched.wait(for: .enabled)
            let alice = try await fixtures.users.make("last")
            let room = try await fixtures.room(admin: alice)
            try await client.post("anyone?", to: room, as: alice)
            try await client.warm(watched, holding: 1, room: room, as: alice)
            // The last member left and the room closed; the event has not arrived yet.
            try await fixtures.removeMember(alice, from: room)
            try await fixtures.postgres.query("UPDATE rooms SET is_active = false WHERE id = \(room)", logger: fixtures.logger)
            try await client.call(.post, "/api/v1/messages", as: alice, json: ["roomId": room.uuidString, "content": "x"]) { response in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "ROOM_INACTIVE")
            }
            #expect(try await fixtures.count("SELECT last_message_seq::int FROM rooms WHERE id = \(room)") == 1)
        }
    }

    @Test func aSettingsChangeTakesEffectWithItsEvent() async throws {
        let watched = WatchedCache()
        try await withMessagesService(accessCache: watched.cache) { client, fixtures in
            await watched.wait(for: .enabled)
            let alice = try await fixtures.users.make("sett")
            let room = try await fixtures.room(admin: alice)
            #expect(try await client.post("recorded", to: room, as: alice).seq == 1)
            try await fixtures.postgres.query(
                "UPDATE rooms SET settings = jsonb_set(settings, '{recordMessages}', 'false') WHERE id = \(room)", logger: fixtures.logger)
            try await fixtures.publish(RoomEvent(type: .roomUpdated, roomId: room, actorId: alice.id))
            await watched.wait(for: .invalidated(room))
            #expect(try await client.post("not recorded", to: room, as: alice).seq == nil)
            #expect(try await client.page(room, "limit=10", as: alice).data.map(\.content) == ["recorded"])
        }
    }

    @Test func roomsScaleIndependentlyAndCountTheirMessages() async throws {
        try await withMessagesService { client, fixtures in
            let users = try await (0..<4).asyncMap { index in try await fixtures.users.make("par\(index)") }
            var rooms: [UUID] = []
            for index in 0..<4 { rooms.append(try await fixtures.room(admin: users[index], members: users.filter { $0.id != users[index].id })) }
            let sent = try await withThrowingTaskGroup(of: (UUID, Int?).self) { group in
                for index in 0..<80 {
                    let room = rooms[index % rooms.count]
                    let user = users[index / rooms.count % users.count]
                    group.addTask { (room, try await client.post("p\(index)", to: room, as: user).seq) }
                }
                return try await group.reduce(into: [UUID: [Int]]()) { result, pair in result[pair.0, default: []].append(pair.1 ?? -1) }
            }
            for room in rooms {
                #expect(sent[room]?.sorted() == Array(1...20))
                let page = try await client.page(room, "limit=5", as: users[0])
                #expect(page.total == 20)
                #expect(page.data.compactMap(\.seq) == [20, 19, 18, 17, 16])
            }
            // Deep pages come from the sequence numbers, not an OFFSET: the same rows as counting back.
            let deep = try await client.page(rooms[0], "page=4&limit=5", as: users[1])
            #expect(deep.data.compactMap(\.seq) == [5, 4, 3, 2, 1])
            #expect(!deep.hasMore)
            #expect(try await client.page(rooms[0], "page=5&limit=5", as: users[1]).data.isEmpty)
        }
    }

    @Test func storedMessagesAreCountedInMetrics() async throws {
        try await withMessagesService { client, fixtures in
            let alice = try await fixtures.users.make("metr")
            let room = try await fixtures.room(admin: alice)
            try await client.post("one", to: room, as: alice)
            try await client.post("two", to: room, as: alice)
            let text = try await client.call(.get, "/metrics", as: nil) { String(buffer: $0.body) }
            let line = text.split(separator: "\n").first { $0.hasPrefix("messages_stored_total ") }
            #expect(line.flatMap { Double($0.split(separator: " ")[1]) } == 2)
        }
    }
}

@Suite struct RoomAccessCacheTests {
    let room = UUID()
    let user = UUID()
    var member: RoomAccess { RoomAccess(roomID: room, isActive: true, isClosed: false, recordMessages: true, role: "member") }

    @Test func keepsAnswersOnlyWhileEnabled() async throws {
        let cache = RoomAccessCache(timeToLive: .seconds(60), capacity: 10)
        let loads = LoadCounter()
        let access = member
        for _ in 0..<2 { _ = try await cache.access(room: room, user: user) { loads.add(); return access } }
        #expect(loads.value == 2)
        cache.enable()
        for _ in 0..<2 { _ = try await cache.access(room: room, user: user) { loads.add(); return access } }
        #expect(loads.value == 3)
        cache.invalidate(room: room)
        _ = try await cache.access(room: room, user: user) { loads.add(); return access }
        #expect(loads.value == 4)
        cache.disable()
        #expect(cache.count == 0)
        _ = try await cache.access(room: room, user: user) { loads.add(); return access }
        #expect(loads.value == 5)
    }

    @Test func anAnswerReadBeforeAnInvalidationIsNotKept() async throws {
        let cache = RoomAccessCache(timeToLive: .seconds(60), capacity: 10)
        cache.enable()
        let access = member
        _ = try await cache.access(room: room, user: user) {
            cache.invalidate(room: access.roomID)  // the event arrives while the database is read
            return access
        }
        #expect(cache.count == 0)
    }

    @Test func staysWithinItsCapacity() async throws {
        let cache = RoomAccessCache(timeToLive: .seconds(60), capacity: 50)
        cache.enable()
        for _ in 0..<500 {
            let room = UUID()
            _ = try await cache.access(room: room, user: user) { RoomAccess(roomID: room, isActive: true, isClosed: false, recordMessages: true, role: nil) }
            #expect(cache.count <= 50)
        }
        #expect(cache.count > 0)
    }

    @Test func aZeroTimeToLiveKeepsNothing() async throws {
        let cache = RoomAccessCache(timeToLive: .zero, capacity: 10)
        cache.enable()
        let access = member
        _ = try await cache.access(room: room, user: user) { access }
        #expect(cache.count == 0)
    }

    @Test func markersAreFoundAnywhereAndOnlyWhole() {
        let cases: [(String, Bool)] = [
            ("", false), ("member.", true), ("{\"type\":\"member.left\"}", true), ("xx room.deleted", true),
            ("room.updated", true), ("room.update", false), ("membe", false), ("rooms.updated", false), ("mmember.r", true),
        ]
        for (text, expected) in cases {
            #expect(RoomAccessInvalidator.mentionsMarker(Array(text.utf8)) == expected, "\(text)")
        }
    }

    @Test func onlyAccessChangingEventsInvalidate() async throws {
        let watched = WatchedCache()
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let invalidator = RoomAccessInvalidator(subscriber: subscriber, cache: watched.cache, logger: TestEnvironment.logger())
        let room = UUID()
        let message = MessageDTO(
            id: UUID(), roomId: room, seq: 1, content: "member.joined? room.deleted!", type: "text", author: nil, file: nil,
            createdAt: Date(), editedAt: nil, deletedAt: nil)
        // Only the second event concerns access; a message that merely mentions the names does not.
        invalidator.handle(Array(try JSONEncoder().encode(RoomEvent(type: .messageCreated, roomId: room, actorId: nil, message: message))))
        invalidator.handle(Array("not json member.".utf8))
        invalidator.handle(Array(try JSONEncoder().encode(RoomEvent(type: .memberLeft, roomId: room, actorId: nil, userId: UUID()))))
        let first = await watched.changes.first { _ in true }
        #expect(first == .invalidated(room))
    }
}

/// A counter closures can bump.
final class LoadCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
