import Foundation
import Logging
import NIOConcurrencyHelpers

/// Who wants which channels and patterns, and the live connection, behind one lock.
///
/// The lock is needed (rather than an actor) because messages are delivered synchronously from the
/// connection's event loop.
final class SubscriptionRegistry: Sendable {
    private struct Entry {
        var names: Set<String>
        var kind: SubscriptionKind
        var continuation: AsyncStream<RedisPubSubMessage>.Continuation
    }

    private struct State {
        var entries: [UUID: Entry] = [:]
        var channelCounts: [String: Int] = [:]
        var patternCounts: [String: Int] = [:]
        var connection: RedisConnection?
        /// The live connection has confirmed every subscription wanted when it was attached.
        var resubscribed = false
        var attachWaiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
        var shutDown = false
        var dropped = 0
    }

    private let state = NIOLockedValueBox(State())
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    var isShutDown: Bool { state.withLockedValue { $0.shutDown } }

    /// Whether a connection is attached and has re-subscribed everything wanted.
    var isAttached: Bool { state.withLockedValue { $0.connection != nil && $0.resubscribed } }

    /// Records a subscription; returns the live connection (if any) and the names it newly needs.
    func register(
        id: UUID, names: Set<String>, kind: SubscriptionKind,
        continuation: AsyncStream<RedisPubSubMessage>.Continuation
    ) throws(RedisError) -> (RedisConnection?, [String]) {
        let result: Result<(RedisConnection?, [String]), RedisError> = state.withLockedValue { state in
            guard !state.shutDown else { return .failure(.clientClosed) }
            state.entries[id] = Entry(names: names, kind: kind, continuation: continuation)
            var fresh: [String] = []
            for name in names.sorted() {
                let count = (kind == .channel ? state.channelCounts[name] : state.patternCounts[name]) ?? 0
                if count == 0 { fresh.append(name) }
                if kind == .channel { state.channelCounts[name] = count + 1 } else { state.patternCounts[name] = count + 1 }
            }
            return .success((state.connection, fresh))
        }
        return try result.get()
    }

    /// Removes a subscription, ends its stream and unsubscribes names nobody needs any more.
    func remove(id: UUID) {
        let (entry, connection, unused): (Entry?, RedisConnection?, [String]) = state.withLockedValue { state in
            guard let entry = state.entries.removeValue(forKey: id) else { return (nil, nil, []) }
            var unused: [String] = []
            for name in entry.names {
                let count = ((entry.kind == .channel ? state.channelCounts[name] : state.patternCounts[name]) ?? 1) - 1
                if count <= 0 { unused.append(name) }
                if entry.kind == .channel {
                    state.channelCounts[name] = count > 0 ? count : nil
                } else {
                    state.patternCounts[name] = count > 0 ? count : nil
                }
            }
            return (entry, state.connection, unused)
        }
        guard let entry else { return }
        entry.continuation.finish()
        if let connection, !unused.isEmpty {
            connection.sendWithoutWaiting(([entry.kind.unsubscribeCommand] + unused.sorted()).map { Array($0.utf8) })
        }
    }

    /// Makes `connection` the live one: subscribes everything wanted, then wakes waiting subscribers.
    func attach(_ connection: RedisConnection, timeout: Duration) async throws(RedisError) {
        let (channels, patterns) = state.withLockedValue { state in
            state.connection = connection
            return (state.channelCounts.keys.sorted(), state.patternCounts.keys.sorted())
        }
        var commands: [[[UInt8]]] = []
        commands += channels.map { ["SUBSCRIBE", $0].map { Array($0.utf8) } }
        commands += patterns.map { ["PSUBSCRIBE", $0].map { Array($0.utf8) } }
        if !commands.isEmpty {
            do {
                let replies = try await connection.send(commands, timeout: timeout)
                try RedisSubscriber.checkConfirmations(Array(replies.prefix(channels.count)), of: channels, kind: .channel)
                try RedisSubscriber.checkConfirmations(Array(replies.dropFirst(channels.count)), of: patterns, kind: .pattern)
            } catch {
                detach(connection)
                connection.close()
                throw error
            }
        }
        let waiters = state.withLockedValue { state in
            defer { state.attachWaiters = [:] }
            if state.connection === connection { state.resubscribed = true }
            return Array(state.attachWaiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Forgets `connection` once it dropped.
    func detach(_ connection: RedisConnection) {
        state.withLockedValue { state in
            if state.connection === connection {
                state.connection = nil
                state.resubscribed = false
            }
        }
    }

    /// Waits until a connection is attached (all registered names subscribed), or throws on timeout.
    func waitUntilAttached(timeout: Duration) async throws(RedisError) {
        let id = UUID()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        let attached = self.state.withLockedValue { state -> Bool in
                            if state.connection != nil { return true }
                            state.attachWaiters[id] = continuation
                            return false
                        }
                        if attached { continuation.resume() }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw RedisError.timeout
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            let waiter = state.withLockedValue { $0.attachWaiters.removeValue(forKey: id) }
            waiter?.resume(throwing: RedisError.timeout)
            throw (error as? RedisError) ?? .timeout
        }
    }

    /// Hands a message to every subscription that wants it.
    func deliver(_ message: RedisPubSubMessage) {
        let (targets, droppedTotal): ([AsyncStream<RedisPubSubMessage>.Continuation], Int) = state.withLockedValue { state in
            let targets = state.entries.values.filter { entry in
                switch entry.kind {
                case .channel: message.pattern == nil && entry.names.contains(message.channel)
                case .pattern: message.pattern.map { entry.names.contains($0) } ?? false
                }
            }.map(\.continuation)
            return (targets, state.dropped)
        }
        var dropped = 0
        for continuation in targets {
            if case .dropped = continuation.yield(message) { dropped += 1 }
        }
        if dropped > 0 {
            let total = state.withLockedValue { state in
                state.dropped += dropped
                return state.dropped
            }
            if droppedTotal == 0 || total / 1000 != droppedTotal / 1000 {
                logger.warning("Slow Redis subscriber, dropping oldest messages", metadata: ["redis.dropped": "\(total)"])
            }
        }
    }

    /// Ends every subscription and closes the connection.
    func shutdown() {
        let (entries, connection, waiters) = state.withLockedValue { state in
            state.shutDown = true
            defer {
                state.entries = [:]
                state.channelCounts = [:]
                state.patternCounts = [:]
                state.attachWaiters = [:]
            }
            return (Array(state.entries.values), state.connection, Array(state.attachWaiters.values))
        }
        entries.forEach { $0.continuation.finish() }
        waiters.forEach { $0.resume(throwing: RedisError.clientClosed) }
        connection?.close()
    }
}
