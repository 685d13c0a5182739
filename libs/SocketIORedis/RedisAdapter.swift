import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VoiceFlowRedis
import VoiceFlowSocketIO

/// The adapter of a namespace served by several nodes: broadcasts go to this node's sockets and,
/// through Redis pub/sub, to every other node's.
///
/// Each room has its own channel, and a node subscribes to a room's channel only while one of its
/// sockets is in the room, so it receives only what its sockets need. Broadcasts to the whole
/// namespace, and to one socket by its id, use one shared channel. Subscriptions live on the process's single
/// ``RedisSubscriber`` connection and are restored by it after a Redis restart.
///
/// ```swift
/// let adapters = RedisAdapterGroup(client: redis, subscriber: subscriber, logger: logger)
/// let io = SocketIOServer(configuration: config, logger: logger, adapter: adapters.adapter(for:))
/// // run `adapters` in the ServiceGroup, after the Redis client and subscriber.
/// ```
public final class RedisAdapter: SocketIOAdapter {
    let local = LocalRooms()
    let namespace: String
    private let group: RedisAdapterGroup
    /// The channels of rooms this node's sockets are in, one hold per room with local sockets.
    private let channels: SharedChannels<Void>
    /// Ids of broadcasts lately delivered, so one sent to several rooms is delivered once.
    private let recent = Mutex(RecentIDs(capacity: 4096))

    init(namespace: String, group: RedisAdapterGroup) {
        self.namespace = namespace
        self.group = group
        self.channels = SharedChannels(subscriber: group.subscriber)
    }

    /// The channel of broadcasts to `room` (`nil`: to the whole namespace).
    func channel(for room: String?) -> String {
        if let room { return "\(group.prefix)#\(namespace)#\(room)#" }
        return "\(group.prefix)#\(namespace)#"
    }

    /// Where a broadcast to `room` is published. A socket's own room (named by its id) has no
    /// channel of its own, since a subscription per socket would cost every node a channel per
    /// connection: it goes on the namespace channel, which every node hears, and only the node
    /// holding that socket delivers it. A room whose name merely looks like a socket id takes the
    /// same way, which is slower for that room but still correct.
    func publishingChannel(for room: String) -> String {
        SessionID.isWellFormed(room) ? channel(for: nil) : channel(for: room)
    }

    public func join(_ socket: Socket, rooms: [String]) async {
        let opened = local.join(socket, rooms: rooms).filter { $0 != socket.id }
        for room in opened { await subscribe(room) }
    }

    public func leave(_ socket: Socket, rooms: [String]) async {
        for room in local.leave(socket, rooms: rooms) { await unsubscribe(room) }
    }

    public func remove(_ socket: Socket) async {
        for room in local.remove(socket) where room != socket.id { await unsubscribe(room) }
    }

    public func rooms(of socket: Socket) -> Set<String> { local.rooms(of: socket) }

    public func localSockets(in rooms: Set<String>) -> [Socket] { local.sockets(in: rooms) }

    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async {
        let messages = packet.encoded()
        local.deliver(messages, rooms: options.rooms, except: options.except)
        guard !options.local else { return }
        let envelope = BroadcastEnvelope(
            node: group.nodeID, id: UUID().uuidString, rooms: Array(options.rooms), except: Array(options.except),
            messages: messages.map(BroadcastEnvelope.Message.init))
        guard let data = try? JSONEncoder().encode(envelope) else { return }
        let text = String(decoding: data, as: UTF8.self)
        let channels = options.rooms.isEmpty ? [channel(for: nil)] : Set(options.rooms.map(publishingChannel(for:)))
        for channel in channels {
            do {
                _ = try await group.client.publish(channel, text)
            } catch {
                group.logger.warning("Broadcast not published", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
            }
        }
    }

    /// Delivers a broadcast published by another node.
    func receive(_ payload: [UInt8]) {
        guard let envelope = try? JSONDecoder().decode(BroadcastEnvelope.self, from: Data(payload)),
            envelope.node != group.nodeID,
            recent.withLock({ $0.insert(envelope.id) })
        else { return }
        let messages = envelope.messages.compactMap(\.engineData)
        guard messages.count == envelope.messages.count else { return }
        local.deliver(messages, rooms: Set(envelope.rooms), except: Set(envelope.except))
    }

    /// Subscribes to the whole-namespace channel; done once when the adapter is made.
    func subscribeToNamespace() async {
        await subscribe(nil)
    }

    /// Holds the channel of `room` (the namespace's with `nil`) for a room that just got its first
    /// local socket; its subscription is read by the group.
    private func subscribe(_ room: String?) async {
        let channel = channel(for: room)
        do {
            try await channels.retain(channel, make: {}) { [group] subscription, _ in group.consume(subscription, for: self) }
        } catch {
            group.logger.error("Room subscription failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
        }
    }

    /// Lets go of the channel of a room that just lost its last local socket.
    private func unsubscribe(_ room: String) async {
        await channels.release(channel(for: room))
    }
}

/// The Redis adapters of one process: they share the Redis client, the subscriber connection and
/// the tasks that read subscriptions. Run it as a `Service`.
public final class RedisAdapterGroup: Service, Sendable {
    let client: RedisClient
    let subscriber: RedisSubscriber
    let logger: Logger
    let prefix: String
    /// This process's id; a node ignores its own broadcasts (it delivered them locally).
    public let nodeID = UUID().uuidString
    private enum Work: Sendable {
        case subscribeToNamespace(RedisAdapter)
        case consume(RedisSubscription, RedisAdapter)
    }

    private let work: AsyncStream<Work>
    private let workContinuation: AsyncStream<Work>.Continuation

    /// - Parameter prefix: first part of every channel name.
    public init(client: RedisClient, subscriber: RedisSubscriber, logger: Logger, prefix: String = "socket.io") {
        self.client = client
        self.subscriber = subscriber
        self.logger = logger
        self.prefix = prefix
        (work, workContinuation) = AsyncStream.makeStream()
    }

    /// The adapter of `namespace` (pass this method as the server's adapter factory).
    public func adapter(for namespace: String) -> any SocketIOAdapter {
        let adapter = RedisAdapter(namespace: namespace, group: self)
        workContinuation.yield(.subscribeToNamespace(adapter))
        return adapter
    }

    func consume(_ subscription: RedisSubscription, for adapter: RedisAdapter) {
        workContinuation.yield(.consume(subscription, adapter))
    }

    /// Reads every subscription until graceful shutdown.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await item in work {
                    switch item {
                    case .subscribeToNamespace(let adapter):
                        group.addTask { await adapter.subscribeToNamespace() }
                    case .consume(let subscription, let adapter):
                        group.addTask {
                            for await message in subscription { adapter.receive(message.payload) }
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.workContinuation.finish()
        }
    }
}

/// What one node publishes for the others.
struct BroadcastEnvelope: Codable {
    struct Message: Codable {
        var text: String?
        var binary: String?

        init(_ data: EngineData) {
            switch data {
            case .text(let text): self.text = text
            case .binary(let bytes): self.binary = Data(bytes).base64EncodedString()
            }
        }

        var engineData: EngineData? {
            if let text { return .text(text) }
            if let binary, let data = Data(base64Encoded: binary) { return .binary(Array(data)) }
            return nil
        }
    }

    var node: String
    var id: String
    var rooms: [String]
    var except: [String]
    var messages: [Message]
}

/// A bounded set of recent ids (oldest forgotten first).
struct RecentIDs {
    let capacity: Int
    private var order: [String] = []
    private var members: Set<String> = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `id`; false when it was already there.
    mutating func insert(_ id: String) -> Bool {
        guard members.insert(id).inserted else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[next])
            order[next] = id
            next = (next + 1) % capacity
        }
        return true
    }
}
