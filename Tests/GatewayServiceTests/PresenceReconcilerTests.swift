import Foundation
import ServiceLifecycle
import TestSupport
import Testing
import VoiceFlowRedis

@testable import GatewayService

/// Presence recovers from Redis calls that failed: records a gateway's sockets no longer match are
/// repaired by reconciliation, against a real Redis, once the difference is seen twice in a row.
@Suite(.timeLimit(.minutes(2))) struct PresenceReconcilerTests {
    static func withPresence(_ body: @Sendable (PresenceStore) async throws -> Void) async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: TestEnvironment.logger("presence"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            defer { group.cancelAll() }
            let presence = PresenceStore(redis: client, gatewayID: "gw-test", ttl: .seconds(30))
            try await presence.heartbeat()
            try await body(presence)
            await client.shutdown()
        }
    }

    static let room = "11111111-1111-1111-1111-111111111111"
    static let otherRoom = "22222222-2222-2222-2222-222222222222"

    @Test func aSocketWhoseDisconnectWasNotRecordedIsRemovedAndItsUserGoesOffline() async throws {
        try await Self.withPresence { presence in
            // The socket connected and joined, then went away while Redis was unreachable: its
            // disconnect cleanup never ran.
            try await presence.connect(userID: "ghost", socketID: "gone-socket")
            _ = try await presence.join(roomID: Self.room, userID: "ghost", socketID: "gone-socket")
            #expect(try await presence.status(of: ["ghost"]) == [.online])

            let reconciler = PresenceReconciler(presence: presence)
            // Seen once: it might be a disconnect under way, so nothing is done yet.
            #expect(try await reconciler.reconcile(local: []) == [])
            #expect(try await presence.status(of: ["ghost"]) == [.online])
            let repairs = try await reconciler.reconcile(local: [])
            #expect(repairs == [.removedSocket(userID: "ghost", socketID: "gone-socket", rooms: [Self.room], leftRooms: [Self.room])])
            #expect(try await presence.status(of: ["ghost"]) == [.offline])
            #expect(try await presence.rooms(ofSocket: "gone-socket") == [])
            #expect(try await presence.sockets(of: "gw-test").isEmpty)
            // Nothing left to repair.
            #expect(try await reconciler.reconcile(local: []) == [])
        }
    }

    @Test func roomsAndSocketsOutOfLineWithTheGatewayAreRepaired() async throws {
        try await Self.withPresence { presence in
            // Recorded in a room it has left (its leave failed), and missing from one it is in (its
            // join's record failed); another socket was never recorded at all.
            try await presence.connect(userID: "alice", socketID: "alice-1")
            _ = try await presence.join(roomID: Self.room, userID: "alice", socketID: "alice-1")
            let local: [PresenceReconciler.LocalSocket] = [
                .init(userID: "alice", socketID: "alice-1", username: "alice", rooms: [Self.otherRoom]),
                .init(userID: "bob", socketID: "bob-1", username: "bob", rooms: []),
            ]
            let reconciler = PresenceReconciler(presence: presence)
            #expect(try await reconciler.reconcile(local: local) == [])
            let repairs = try await reconciler.reconcile(local: local)
            #expect(repairs.count == 3)
            #expect(repairs.contains(.leftRoom(userID: "alice", roomID: Self.room, remaining: 0)))
            #expect(repairs.contains(.joinedRoom(userID: "alice", username: "alice", roomID: Self.otherRoom, count: 1)))
            #expect(repairs.contains(.recordedSocket(userID: "bob", socketID: "bob-1")))
            #expect(Set(try await presence.rooms(ofSocket: "alice-1")) == [Self.otherRoom])
            #expect(try await presence.status(of: ["alice", "bob"]) == [.online, .online])
            #expect(try await reconciler.reconcile(local: local) == [])
        }
    }

    @Test func aDifferenceThatResolvesItselfIsLeftAlone() async throws {
        try await Self.withPresence { presence in
            // A disconnect under way: the first pass sees the record, the cleanup then runs.
            try await presence.connect(userID: "carol", socketID: "carol-1")
            let reconciler = PresenceReconciler(presence: presence)
            #expect(try await reconciler.reconcile(local: []) == [])
            _ = try await presence.disconnect(userID: "carol", socketID: "carol-1")
            #expect(try await reconciler.reconcile(local: []) == [])
            // A socket that connects between passes is not mistaken for a missing record later.
            try await presence.connect(userID: "carol", socketID: "carol-2")
            let local = [PresenceReconciler.LocalSocket(userID: "carol", socketID: "carol-2", username: "carol", rooms: [])]
            #expect(try await reconciler.reconcile(local: local) == [])
            #expect(try await reconciler.reconcile(local: local) == [])
        }
    }

    @Test func aGatewayWhoseAliveTimeRanOutCountsAsDead() async throws {
        try await Self.withPresence { presence in
            let other = PresenceStore(redis: presence.redis, gatewayID: "gw-other", ttl: .milliseconds(1))
            try await other.heartbeat()
            try await other.connect(userID: "dave", socketID: "dave-1")
            // Its alive time (1 ms) runs out; waiting on Redis's clock, not sleeping a fixed time.
            var dead: [String] = []
            for _ in 0..<200 where dead.isEmpty {
                dead = try await presence.deadGateways()
                if dead.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(dead == ["gw-other"])
            #expect(try await presence.status(of: ["dave"]) == [.offline])
        }
    }
}
