import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A pooled, pipelining Redis client.
///
/// Connections are made on first use and remade on demand after a failure, with exponential
/// backoff: while Redis is down, commands fail fast with ``RedisError/connectionClosed`` instead of
/// queueing; once it is back, the next command reconnects. A command that was already written when
/// its connection dropped is not retried (it may have run).
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379"), logger: logger)
/// try await redis.send("SET", "greeting", "hello")
/// let value = try await redis.send("GET", "greeting").string    // "hello"
/// let replies = try await redis.pipeline([["INCR", "n"], ["INCR", "n"]])
/// ```
public final class RedisClient: Service, Sendable {
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let pool: ConnectionPool

    /// Creates a client; nothing connects until the first command.
    public init(
        configuration: RedisConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        self.pool = ConnectionPool(size: max(1, configuration.poolSize))
    }

    /// A new client with the same settings and a single connection of its own, for blocking
    /// commands (`BLPOP`, `XREAD BLOCK`, ...): on a shared pool they would hold up every command
    /// pipelined behind them on the same connection. Call `shutdown()` on it when done.
    public func dedicated() -> RedisClient {
        var single = configuration
        single.poolSize = 1
        return RedisClient(configuration: single, logger: logger, eventLoopGroup: group)
    }

    /// Runs until graceful shutdown, then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes every connection; later commands throw ``RedisError/clientClosed``.
    public func shutdown() async {
        await pool.close()
    }

    /// Sends one command; an error reply is thrown as ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ command: String, _ arguments: String...) async throws(RedisError) -> RESPValue {
        try await send([command] + arguments)
    }

    /// Sends one command given as a list of words.
    @discardableResult
    public func send(_ arguments: [String]) async throws(RedisError) -> RESPValue {
        try await send(bytes: arguments.map { Array($0.utf8) })
    }

    /// Sends one binary-safe command.
    @discardableResult
    public func send(bytes arguments: [[UInt8]]) async throws(RedisError) -> RESPValue {
        let reply = try await execute([arguments])[0]
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    /// Writes every command at once and returns the replies in order; error replies stay in place as
    /// ``RESPValue/error(_:)``.
    public func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        return try await execute(commands.map { $0.map { Array($0.utf8) } })
    }

    /// Runs a Lua script by EVALSHA, loading it with EVAL when Redis does not know it yet.
    public func eval(_ script: RedisScript, keys: [String], arguments: [String]) async throws(RedisError) -> RESPValue {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try await send(["EVALSHA", script.sha1] + tail)
        } catch .server(let message) where message.hasPrefix("NOSCRIPT") {
            return try await send(["EVAL", script.source] + tail)
        }
    }

    /// Publishes `message` on `channel`; returns how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, _ message: String) async throws(RedisError) -> Int {
        try await send("PUBLISH", channel, message).int ?? 0
    }

    /// Sends PING; throws when Redis does not answer.
    public func ping() async throws(RedisError) {
        _ = try await send("PING")
    }

    private func execute(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        let (slot, connection) = try await pool.connection { () throws(RedisError) in
            try await RedisConnection.connect(self.configuration, group: self.group)
        } backoff: { failures in
            Backoff.delay(afterFailures: failures, initial: self.configuration.reconnectInitialDelay, maximum: self.configuration.reconnectMaxDelay)
        }
        do {
            return try await connection.send(commands, timeout: configuration.commandTimeout)
        } catch {
            logger.debug("Redis command failed", metadata: ["redis.error": "\(error)"])
            await pool.discard(connection, at: slot)
            throw error
        }
    }
}

/// Exponential backoff with full jitter.
enum Backoff {
    static func delay(afterFailures failures: Int, initial: Duration, maximum: Duration) -> Duration {
        let exponent = min(max(failures - 1, 0), 16)
        let ceiling = min(initial * (1 << exponent), maximum)
        let fraction = Double.random(in: 0.5...1.0)
        return ceiling * fraction
    }
}
