import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import VoiceFlowRedis

@testable import VoiceFlowSocketIO
@testable import VoiceFlowSocketIORedis

/// Broadcasts between two nodes through a real redis-server, including across a Redis restart.
@Suite(.timeLimit(.minutes(2))) struct RedisAdapterTests {
    /// One node: its Redis connections, adapters and Socket.IO server.
    struct Node {
        let client: RedisClient
        let subscriber: RedisSubscriber
        let adapters: RedisAdapterGroup
        let io: SocketIOServer

        init(redisURL: String, name: String) throws {
            var configuration = try RedisConfiguration(url: redisURL)
            configuration.reconnectMaxDelay = .milliseconds(200)
            let logger = TestEnvironment.logger(name)
            client = RedisClient(configuration: configuration, logger: logger)
            subscriber = RedisSubscriber(configuration: configuration, logger: logger)
            adapters = RedisAdapterGroup(client: client, subscriber: subscriber, logger: logger, prefix: "test-\(name)")
            io = SocketIOServer(configuration: .init(), logger: logger, adapter: adapters.adapter(for:))
        }

        var services: [any Service] { [client, subscriber, adapters] }

        /// A connected socket whose outgoing packets can be polled.
        func socket() async throws -> (Socket, EngineSession) {
            let session = EngineSession(
                id: SessionID.make(), handshake: EngineHandshake(query: [:], headers: [:], remoteAddress: nil),
                transport: .polling, configuration: io.configuration.engine)
            let connection = ClientConnection(session: session, server: io)
            let socket = Socket(
                id: SessionID.make(), namespace: io.sockets,
                handshake: SocketHandshake(auth: [:], query: [:], headers: [:], remoteAddress: nil), connection: connection)
            try await io.sockets.admit(socket)
            return (socket, session)
        }
    }

    /// Runs two nodes sharing one prefix (the same cluster) on `server`.
    static func withNodes(_ server: RedisServerProcess, _ body: @Sendable (Node, Node) async throws -> Void) async throws {
        let first = try Node(redisURL: server.url, name: "cluster")
        let second = try Node(redisURL: server.url, name: "cluster")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in first.services + second.services {
                group.addTask { try await service.run() }
            }
            defer { group.cancelAll() }
            try await body(first, second)
            for node in [first, second] {
                await node.subscriber.shutdown()
                await node.client.shutdown()
            }
        }
    }

    /// The next event name and arguments a socket was sent.
    static func nextEvent(_ session: EngineSession) async throws -> (String, [SocketIOValue]) {
        let packets = try #require(await session.poll())
        var decoder = SocketIOPacketDecoder()
        for packet in packets where packet.type == .message {
            guard let data = packet.data, let decoded = try decoder.decode(data), case .array(let values)? = decoded.data,
                case .string(let name)? = values.first
            else { continue }
            return (name, Array(values.dropFirst()))
        }
        Issue.record("no event in \(packets)")
        return ("", [])
    }

    final class Done: Sendable {
        let flag = Atomic<Bool>(false)
    }

    /// Broadcasts from `node` until `session` (on the other node) received the event, since a
    /// subscription may still be re-establishing; returns the event name received.
    static func broadcastUntilReceived(from node: Node, room: String, to session: EngineSession) async throws -> String {
        let done = Done()
        let receive = Task {
            defer { done.flag.store(true, ordering: .relaxed) }
            return try await nextEvent(session)
        }
        for attempt in 0..<200 where !done.flag.load(ordering: .relaxed) {
            await node.io.sockets.to(room).emit("probe", [.int(Int64(attempt))])
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await receive.value.0
    }

    @Test func roomBroadcastsReachOtherNodesOnlyWhereTheRoomHasSockets() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withNodes(server) { first, second in
            let (inLobby, inLobbySession) = try await first.socket()
            let (outside, outsideSession) = try await first.socket()
            let (local, localSession) = try await second.socket()
            await inLobby.join("lobby")
            await outside.join("elsewhere")
            await local.join("lobby")
            await local.join("other")
            // Joining returns once subscribed: a broadcast right after reaches the other node.
            await second.io.sockets.to("lobby").emit("hello", ["world", .binary([1, 2, 3])])
            let (name, arguments) = try await Self.nextEvent(inLobbySession)
            #expect(name == "hello")
            #expect(arguments == ["world", .binary([1, 2, 3])])
            #expect(try await Self.nextEvent(localSession).0 == "hello")

            // Two rooms, one socket in both: delivered once. Exclusions apply on every node.
            await first.io.sockets.to("lobby").to("other").except(inLobby.id).emit("twice?")
            #expect(try await Self.nextEvent(localSession).0 == "twice?")
            await first.io.sockets.to("other").emit("marker")
            #expect(try await Self.nextEvent(localSession).0 == "marker")

            // The socket outside the room received nothing (the first thing it gets is this).
            await first.io.sockets.to("elsewhere").emit("only-you")
            #expect(try await Self.nextEvent(outsideSession).0 == "only-you")
            await second.io.sockets.to("lobby").emit("after")
            let last = try await Self.nextEvent(inLobbySession)
            #expect(last.0 == "after", "\(last)")
        }
    }

    @Test func aSocketIsReachedByItsIDFromAnyNode() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withNodes(server) { first, second in
            let (target, targetSession) = try await second.socket()
            let (_, bystanderSession) = try await second.socket()
            let (_, elsewhereSession) = try await first.socket()
            // The namespace channel (which carries it) may still be subscribing: probe until it arrives.
            #expect(try await Self.broadcastUntilReceived(from: first, room: target.id, to: targetSession) == "probe")
            // Only that socket: the others' first event is the one sent to everyone afterwards.
            await first.io.sockets.emit("everyone")
            #expect(try await Self.nextEvent(bystanderSession).0 == "everyone")
            #expect(try await Self.nextEvent(elsewhereSession).0 == "everyone")
            // No channel was opened for the socket's own room.
            let own = (second.io.sockets.adapter as! RedisAdapter).channel(for: target.id)
            #expect(try await first.client.publish(own, "{}") == 0)
        }
    }

    @Test func aNodeStopsListeningToARoomItsSocketsLeft() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withNodes(server) { first, second in
            let (socket, _) = try await first.socket()
            await socket.join("temporary")
            let channel = (first.io.sockets.adapter as! RedisAdapter).channel(for: "temporary")
            let whileJoined = try await second.client.publish(channel, "{}")
            #expect(whileJoined == 1)
            await socket.leave("temporary")
            let afterLeaving = try await second.client.publish(channel, "{}")
            #expect(afterLeaving == 0)
        }
    }

    @Test func broadcastsFlowAgainAfterRedisRestarts() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withNodes(server) { first, second in
            let (socket, session) = try await first.socket()
            await socket.join("survivors")
            await second.io.sockets.to("survivors").emit("before")
            #expect(try await Self.nextEvent(session).0 == "before")
            try await server.restart()
            #expect(try await Self.broadcastUntilReceived(from: second, room: "survivors", to: session) == "probe")
        }
    }
}
