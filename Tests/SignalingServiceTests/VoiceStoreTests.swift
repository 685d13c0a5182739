import Foundation
import Logging
import PostgresNIO
import Prometheus
import Synchronization
import Testing
import TestSupport
import VoiceFlowCommon
import VoiceFlowRedis

@testable import SignalingService

/// Voice state in Redis and its sweep, each test against a Redis of its own (a sweep looks at
/// every gateway's sessions, so tests sharing a Redis would sweep each other's).
@Suite(.timeLimit(.minutes(2))) struct VoiceStoreTests {
    /// The store over a private Redis, for `body`.
    static func withStore(_ body: (VoiceStore, RedisClient, String) async throws -> Void) async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: TestEnvironment.logger())
        try await body(VoiceStore(redis: redis), redis, server.url)
        await redis.shutdown()
    }

    /// Join times a second apart (the wire keeps whole seconds), so "oldest first" is one order.
    static let clock = Atomic<Int>(0)

    static func session(room: String, user: String = UUID().uuidString.lowercased(), gateway: String = "gw-a") -> VoiceSession {
        let tick = clock.add(1, ordering: .relaxed).newValue
        return VoiceSession(
            sessionId: UUID().uuidString.lowercased(), roomId: room, userId: user, username: "user", gatewayId: gateway,
            socketId: SocketID.make(), joinedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(tick)))
    }

    static func room() -> String { UUID().uuidString.lowercased() }

    @Test func startListsTheOthersAndEnforcesTheCap() async throws {
        try await Self.withStore { store, redis, url in
            let room = Self.room()
            let first = Self.session(room: room)
            #expect(try await store.start(first, maxParticipants: 2) == .started(others: [], replaced: nil))
            let second = Self.session(room: room)
            #expect(try await store.start(second, maxParticipants: 2) == .started(others: [first], replaced: nil))
            #expect(try await store.start(Self.session(room: room), maxParticipants: 2) == .full)
            #expect(try await store.sessions(inRoom: room).map(\.sessionId) == [first.sessionId, second.sessionId])
            _ = try await store.end(first.sessionId)
            _ = try await store.end(second.sessionId)
        }
    }

    @Test func aUserHasOneSessionJoiningElsewhereReplacesIt() async throws {
        try await Self.withStore { store, redis, url in
            let (roomA, roomB) = (Self.room(), Self.room())
            let first = Self.session(room: roomA)
            _ = try await store.start(first, maxParticipants: 6)
            var again = Self.session(room: roomB, user: first.userId, gateway: "gw-b")
            again.username = first.username
            #expect(try await store.start(again, maxParticipants: 6) == .started(others: [], replaced: first))
            #expect(try await store.sessions(inRoom: roomA).isEmpty)
            #expect(try await store.session(first.sessionId) == nil)
            #expect(try await store.session(ofUser: first.userId) == again)
            #expect(try await store.sessions(onGateway: "gw-a").contains(first) == false)
            // A full room still takes the user's own replacement (it frees the user's seat).
            let full = Self.room()
            let seated = Self.session(room: full)
            _ = try await store.start(seated, maxParticipants: 1)
            let replacement = Self.session(room: full, user: seated.userId)
            #expect(try await store.start(replacement, maxParticipants: 1) == .started(others: [], replaced: seated))
            _ = try await store.end(again.sessionId)
            _ = try await store.end(replacement.sessionId)
        }
    }

    @Test func endIsOnceAndUpdatesSayWhatChanged() async throws {
        try await Self.withStore { store, redis, url in
            let session = Self.session(room: Self.room())
            _ = try await store.start(session, maxParticipants: 6)
            let muted = try #require(try await store.update(session.sessionId, in: session.roomId, VoiceSessionUpdate(muted: true)))
            #expect(muted.session.muted && muted.stateChanged && !muted.speakingChanged)
            let same = try #require(try await store.update(session.sessionId, in: session.roomId, VoiceSessionUpdate(muted: true)))
            #expect(!same.stateChanged && !same.speakingChanged)
            let speaking = try #require(try await store.update(session.sessionId, in: session.roomId, VoiceSessionUpdate(speaking: true)))
            #expect(speaking.session.speaking && speaking.session.muted && speaking.speakingChanged && !speaking.stateChanged)
            #expect(speaking.session.joinedAt.timeIntervalSince1970.rounded() == session.joinedAt.timeIntervalSince1970.rounded())
            #expect(try await store.end(session.sessionId)?.sessionId == session.sessionId)
            #expect(try await store.end(session.sessionId) == nil)
            #expect(try await store.update(session.sessionId, in: session.roomId, VoiceSessionUpdate(muted: false)) == nil)
            #expect(try await store.session(ofUser: session.userId) == nil)
        }
    }

    // MARK: The sweep

    static func sweeper(_ store: VoiceStore, _ redis: RedisClient) -> (VoiceSweeper, VoiceRooms) {
        let logger = TestEnvironment.logger("sweep")
        let postgres = PostgresClient(configuration: .init(host: "127.0.0.1", username: "unused", password: nil, database: nil, tls: .disable))
        let rooms = VoiceRooms(
            store: store, access: RoomAccess(client: postgres, logger: logger), events: EventPublisher(redis: redis, logger: logger),
            turn: TurnCredentials(settings: TurnSettings(secret: nil, turnURLs: [], stunURLs: ["stun:127.0.0.1:3478"])),
            metrics: SignalingMetrics(registry: PrometheusCollectorRegistry()), maxParticipants: 6, logger: logger)
        let sweeper = VoiceSweeper(
            rooms: rooms, redis: redis, period: .seconds(1), gatewayTimeout: .seconds(6), presenceTTL: .seconds(10), logger: logger)
        return (sweeper, rooms)
    }

    @Test func aDeadGatewaysSessionsEndAndTheRoomHearsIt() async throws {
        try await Self.withStore { store, redis, url in
            let (sweeper, _) = Self.sweeper(store, redis)
            let room = Self.room()
            let dead = "gw-dead-\(TestEnvironment.uniqueSuffix())"
            let session = Self.session(room: room, gateway: dead)
            _ = try await store.start(session, maxParticipants: 6)
            let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: url), logger: TestEnvironment.logger())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await subscriber.run() }
                defer { group.cancelAll() }
                let events = try await subscriber.subscribe([RoomEvent.channel(for: UUID(uuidString: room)!)])
                // Its last heartbeat was 7 s ago: past the 6 s timeout, though its presence TTL runs for 3 s more.
                let lastBeat = Int64(Date().timeIntervalSince1970 * 1000) - 7_000
                _ = try await redis.send("HSET", PresenceKeys.alive, dead, String(lastBeat + 10_000))
                _ = try await sweeper.sweep(suspects: [])
                let heard = try await events.roomEvents(1)
                #expect(heard.first?.type == .voiceLeft)
                #expect(heard.first?.voiceReason == .disconnected)
                #expect(heard.first?.voice?.sessionId == session.sessionId)
                #expect(try await store.session(session.sessionId) == nil)
                #expect(try await store.gateways().contains(dead) == false)
                await events.unsubscribe()
                await subscriber.shutdown()
            }
        }
    }

    @Test func aSessionWhoseSocketIsGoneEndsOnTheSecondPass() async throws {
        try await Self.withStore { store, redis, url in
            let (sweeper, _) = Self.sweeper(store, redis)
            let gateway = "gw-live-\(TestEnvironment.uniqueSuffix())"
            let kept = Self.session(room: Self.room(), gateway: gateway)
            let orphan = Self.session(room: Self.room(), gateway: gateway)
            _ = try await store.start(kept, maxParticipants: 6)
            _ = try await store.start(orphan, maxParticipants: 6)
            _ = try await redis.pipeline([
                ["HSET", PresenceKeys.alive, gateway, String(Int64(Date().timeIntervalSince1970 * 1000) + 10_000)],
                ["HSET", PresenceKeys.user(kept.userId), kept.socketId, "\(gateway)|online"],
            ])
            let suspects = try await sweeper.sweep(suspects: [])
            #expect(suspects == [orphan.sessionId])
            #expect(try await store.session(orphan.sessionId) != nil)
            #expect(try await sweeper.sweep(suspects: suspects).isEmpty)
            #expect(try await store.session(orphan.sessionId) == nil)
            #expect(try await store.session(kept.sessionId) == kept)
            _ = try await store.end(kept.sessionId)
            _ = try await redis.pipeline([["HDEL", PresenceKeys.alive, gateway], ["DEL", PresenceKeys.user(kept.userId)]])
        }
    }
}

/// Socket ids shaped as the gateway makes them.
enum SocketID {
    static func make() -> String { String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20)) }
}
