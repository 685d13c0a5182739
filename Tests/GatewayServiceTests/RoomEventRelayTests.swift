import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowRedis

@testable import GatewayService
@testable import VoiceFlowSocketIO

/// Room events published on a real Redis reach the sockets through the relay and the room's one
/// stream: in sequence order whatever the publish order, with one history read per gap and room.
@Suite(.timeLimit(.minutes(2))) struct RoomEventRelayTests {
    typealias FakeHistory = RoomStreamTests.FakeHistory
    typealias Reader = RoomStreamTests.Reader

    /// A relay on a real Redis, with its services running while `body` runs.
    static func withRelay(
        history: FakeHistory, reorderWait: Duration,
        _ body: @Sendable (RoomEventRelay, RedisClient, SocketIOServer) async throws -> Void
    ) async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let configuration = try RedisConfiguration(url: server.url)
        let logger = TestEnvironment.logger("relay")
        let client = RedisClient(configuration: configuration, logger: logger)
        let subscriber = RedisSubscriber(configuration: configuration, logger: logger)
        let io = SocketIOServer(configuration: .init(), logger: logger)
        let presence = PresenceStore(redis: client, gatewayID: "gw-test", ttl: .seconds(10))
        var settings = RoomStream.Settings()
        settings.reorderWait = reorderWait
        let relay = RoomEventRelay(
            subscriber: subscriber, namespace: io.sockets, presence: presence, history: history, streamSettings: settings,
            metrics: nil, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in [client, subscriber, relay] as [any Service] {
                group.addTask { try await service.run() }
            }
            defer { group.cancelAll() }
            try await body(relay, client, io)
            await subscriber.shutdown()
            await client.shutdown()
        }
    }

    static func publish(_ event: RoomEvent, on client: RedisClient) async throws {
        let data = try WireDateCoding.encoder().encode(event)
        _ = try await client.publish(RoomEvent.channel(for: UUID(uuidString: event.roomId)!), String(decoding: data, as: UTF8.self))
    }

    static func publish(_ message: MessageDTO, on client: RedisClient) async throws {
        try await publish(
            RoomEvent(type: .messageCreated, roomId: UUID(uuidString: message.roomId)!, actorId: nil, message: message), on: client)
    }

    /// Opens the room on the reader's socket as `room:join` does: the socket joins the room, the
    /// relay subscribes, the socket attaches to the stream.
    static func open(_ roomID: String, for reader: Reader, relay: RoomEventRelay, after lastSeq: Int? = nil) async throws {
        #expect(await reader.session.open(roomID))
        try await relay.namespace.admit(reader.session.socket)
        reader.session.socket.data = reader.session
        await reader.session.socket.join(RoomEventRelay.socketRoom(roomID))
        let stream = try await relay.retain(roomID)
        try await stream.attach(reader.session, after: lastSeq)
    }

    @Test func outOfOrderPublishesOverRedisReachEverySocketInOrderWithOneGapFillPerRoom() async throws {
        let history = FakeHistory(newest: 0)
        // Long enough for every publish to arrive before the wait for the missing one ends.
        try await Self.withRelay(history: history, reorderWait: .milliseconds(500)) { relay, client, io in
            let room = RoomStreamTests.roomID
            var readers = (0..<4).map { _ in Reader(io: io) }
            for reader in readers { try await Self.open(room, for: reader, relay: relay) }
            // Six messages committed; Redis carries them in a scrambled order, and 4 never comes live.
            history.newest.withLock { $0 = 6 }
            for seq in [2, 1, 3, 6, 5] { try await Self.publish(RoomStreamTests.message(seq), on: client) }
            for index in readers.indices { #expect(try await readers[index].seqs(6) == Array(1...6)) }
            #expect(history.calls.load(ordering: .relaxed) == 1)
            #expect(relay.openRooms == 1)
        }
    }

    @Test func aKickOverRedisClosesTheRoomOnTheKickedUsersSocketsOnly() async throws {
        let history = FakeHistory(newest: 0)
        try await Self.withRelay(history: history, reorderWait: .milliseconds(5)) { relay, client, io in
            let room = RoomStreamTests.roomID
            let kicked = Reader(io: io)
            var stays = Reader(io: io)
            for reader in [kicked, stays] { try await Self.open(room, for: reader, relay: relay) }
            try await Self.publish(
                RoomEvent(type: .memberKicked, roomId: UUID(uuidString: room)!, actorId: nil, userId: kicked.session.user.id), on: client)
            history.newest.withLock { $0 = 1 }
            try await Self.publish(RoomStreamTests.message(1), on: client)
            #expect(try await stays.seqs(1) == [1])
            #expect(await !kicked.session.hasJoined(room))
            #expect(await stays.session.hasJoined(room))
            // The kicked socket heard `room:kicked` and no message after it.
            let events = try #require(await kicked.engine.poll())
            var decoder = SocketIOPacketDecoder()
            var names: [String] = []
            for packet in events where packet.type == .message {
                if let data = packet.data, let decoded = try decoder.decode(data), let name = decoded.data?.arrayValue?.first?.stringValue {
                    names.append(name)
                }
            }
            #expect(names == [ServerEventName.kicked.rawValue])
        }
    }

    @Test func racingClosesOfOneRoomReleaseItOnce() async throws {
        let history = FakeHistory(newest: 0)
        try await Self.withRelay(history: history, reorderWait: .milliseconds(5)) { relay, client, io in
            let room = RoomStreamTests.roomID
            var first = Reader(io: io)
            let second = Reader(io: io)
            for reader in [first, second] { try await Self.open(room, for: reader, relay: relay) }
            // A REST leave's event and a socket leave racing on the same socket: one close happens.
            await withDiscardingTaskGroup { group in
                for _ in 0..<5 {
                    group.addTask { await GatewayEvents.closeRoom(room, for: second.session, relay: relay) }
                }
            }
            #expect(relay.openRooms == 1)
            history.newest.withLock { $0 = 1 }
            try await Self.publish(RoomStreamTests.message(1), on: client)
            #expect(try await first.seqs(1) == [1])
            await GatewayEvents.closeRoom(room, for: first.session, relay: relay)
            #expect(relay.openRooms == 0)
        }
    }
}
