import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Pub/sub on one dedicated connection, restored after every reconnect.
///
/// `run()` keeps the connection: when Redis drops it, it reconnects with backoff and re-issues
/// SUBSCRIBE/PSUBSCRIBE for every channel and pattern still wanted, so a process never silently
/// stops receiving after a Redis blip.
///
/// ```swift
/// let subscriber = RedisSubscriber(configuration: configuration, logger: logger)
/// // run `subscriber` in the ServiceGroup, then:
/// let subscription = try await subscriber.subscribe(["room:42"])
/// for await message in subscription { print(message.string) }
/// ```
public final class RedisSubscriber: Service, Sendable {
    /// Messages buffered per subscription before the oldest are dropped.
    public static let bufferLimit = 10_000

    private let configuration: RedisConfiguration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let registry: SubscriptionRegistry

    /// Creates a subscriber; it connects when `run()` starts.
    public init(
        configuration: RedisConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        self.registry = SubscriptionRegistry(logger: logger)
    }

    /// Holds the connection until graceful shutdown or cancellation, reconnecting as needed.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.connectionLoop()
            } onCancel: {
                self.registry.shutdown()
            }
        } onGracefulShutdown: {
            self.registry.shutdown()
        }
    }

    /// Whether the connection is up and every wanted channel and pattern is subscribed on it (false
    /// before the first connection and while reconnecting).
    public var isAttached: Bool { registry.isAttached }

    /// Closes the connection and ends every subscription.
    public func shutdown() async {
        registry.shutdown()
    }

    /// Subscribes to `channels`; returns once Redis confirmed (waiting up to the connect timeout for
    /// the connection when it is being re-established).
    public func subscribe(_ channels: [String]) async throws(RedisError) -> RedisSubscription {
        try await add(channels, kind: .channel)
    }

    /// Subscribes to glob `patterns` (PSUBSCRIBE); messages carry the matching pattern.
    public func psubscribe(_ patterns: [String]) async throws(RedisError) -> RedisSubscription {
        try await add(patterns, kind: .pattern)
    }

    private func add(_ names: [String], kind: SubscriptionKind) async throws(RedisError) -> RedisSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: RedisPubSubMessage.self, bufferingPolicy: .bufferingNewest(Self.bufferLimit))
        let id = UUID()
        let registry = self.registry
        let (connection, newNames) = try registry.register(id: id, names: Set(names), kind: kind, continuation: continuation)
        continuation.onTermination = { _ in registry.remove(id: id) }
        do throws(RedisError) {
            if let connection {
                if !newNames.isEmpty {
                    let replies = try await connection.send(
                        newNames.map { [kind.subscribeCommand, $0].map { Array($0.utf8) } }, timeout: configuration.commandTimeout)
                    try Self.checkConfirmations(replies, of: newNames, kind: kind)
                }
            } else {
                try await registry.waitUntilAttached(timeout: configuration.connectTimeout)
            }
        } catch {
            registry.remove(id: id)
            throw error
        }
        return RedisSubscription(stream: stream) { registry.remove(id: id) }
    }

    /// Throws unless `replies` confirm subscribing to `names`, in order: a reply that belongs to
    /// another command means the connection's replies are out of step.
    static func checkConfirmations(_ replies: [RESPValue], of names: [String], kind: SubscriptionKind) throws(RedisError) {
        for (reply, name) in zip(replies, names) {
            if case .error(let message) = reply { throw .server(message) }
            guard let confirmation = SubscriptionConfirmation(reply), confirmation.kind == kind.subscribeCommand.lowercased(),
                confirmation.name == Array(name.utf8)
            else { throw .protocolError("unexpected reply to \(kind.subscribeCommand)") }
        }
    }

    private func connectionLoop() async {
        var failures = 0
        while !registry.isShutDown && !Task.isCancelled {
            do {
                let registry = self.registry
                let connection = try await RedisConnection.connect(configuration, group: group) { message in
                    registry.deliver(message)
                }
                failures = 0
                try await registry.attach(connection, timeout: configuration.commandTimeout)
                logger.debug("Redis subscriber connected", metadata: ["redis.server": "\(configuration)"])
                try? await connection.closeFuture.get()
                registry.detach(connection)
                if !registry.isShutDown {
                    logger.warning("Redis subscriber connection lost, reconnecting", metadata: ["redis.server": "\(configuration)"])
                }
            } catch {
                failures += 1
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("Redis subscriber cannot connect", metadata: ["redis.server": "\(configuration)", "attempt": "\(failures)"])
                }
            }
            guard !registry.isShutDown else { break }
            let delay = Backoff.delay(
                afterFailures: max(failures, 1), initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay)
            try? await Task.sleep(for: delay)
        }
    }
}

/// Channel or pattern subscription.
enum SubscriptionKind: Sendable {
    case channel
    case pattern

    var subscribeCommand: String { self == .channel ? "SUBSCRIBE" : "PSUBSCRIBE" }
    var unsubscribeCommand: String { self == .channel ? "UNSUBSCRIBE" : "PUNSUBSCRIBE" }
}
