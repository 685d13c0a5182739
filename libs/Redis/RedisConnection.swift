import Logging
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to Redis, authenticated and on the configured database.
final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects (through TLS for `rediss://`), then sends AUTH and SELECT as configured.
    static func connect(
        _ configuration: RedisConfiguration,
        group: any EventLoopGroup,
        onMessage: (@Sendable (RedisPubSubMessage) -> Void)? = nil
    ) async throws(RedisError) -> RedisConnection {
        let tls: NIOSSLContext?
        do {
            tls = try configuration.tls.map(Self.makeContext)
        } catch {
            throw .connectionClosed  // an unusable CA file; RedisConfiguration checked it was readable
        }
        let host = configuration.host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // SNI and host name checks need a name; an IP address is checked against the
                        // certificate's IP entries instead.
                        let name = host.isIPAddress ? nil : host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(onMessage: onMessage))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch let error as ChannelError where error == .connectTimeout(TimeAmount(configuration.connectTimeout)) {
            throw .timeout
        } catch {
            throw .connectionClosed
        }
        let connection = RedisConnection(channel: channel)
        do throws(RedisError) {
            var handshake: [[String]] = []
            if let password = configuration.password {
                handshake.append(["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password])
            }
            if configuration.database != 0 {
                handshake.append(["SELECT", String(configuration.database)])
            }
            if !handshake.isEmpty {
                let replies = try await connection.send(handshake.map { $0.map { Array($0.utf8) } }, timeout: configuration.commandTimeout)
                for case .error(let message) in replies { throw RedisError.server(message) }
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private static func makeContext(_ settings: RedisTLS) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = settings.verifiesServer ? .fullVerification : .none
        if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: tls)
    }

    /// Whether the connection can still carry commands.
    var isActive: Bool { channel.isActive }

    /// Writes `commands` at once and returns their replies in order.
    ///
    /// After `timeout` every pending reply fails with ``RedisError/timeout`` and the connection is
    /// closed: a late reply would otherwise be matched with the wrong command.
    func send(_ commands: [[[UInt8]]], timeout: Duration) async throws(RedisError) -> [RESPValue] {
        let eventLoop = channel.eventLoop
        let promises = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let channel = self.channel
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.triggerUserOutboundEvent(RedisTimeoutEvent(), promise: nil)
        }
        channel.writeAndFlush(RedisRequest(commands: commands, replies: promises)).whenFailure { _ in
            promises.forEach { $0.fail(RedisError.connectionClosed) }
        }
        do {
            let replies = try await EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: eventLoop).get()
            timer.cancel()
            return replies
        } catch {
            timer.cancel()
            throw (error as? RedisError) ?? .connectionClosed
        }
    }

    /// Writes `command` without waiting for its reply (the reply is still consumed in order).
    func sendWithoutWaiting(_ command: [[UInt8]]) {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        promise.futureResult.whenComplete { _ in }
        channel.writeAndFlush(RedisRequest(commands: [command], replies: [promise])).whenFailure { error in
            promise.fail(error)
        }
    }

    /// A future that completes when the connection closes.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Closes the connection; pending replies fail with ``RedisError/connectionClosed``.
    func close() {
        channel.close(promise: nil)
    }
}

/// Sent down the pipeline when a command timed out.
struct RedisTimeoutEvent: Sendable {}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension String {
    /// Whether this is an IPv4 or IPv6 literal rather than a host name.
    fileprivate var isIPAddress: Bool {
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        return inet_pton(AF_INET, self, &ipv4) == 1 || inet_pton(AF_INET6, self, &ipv6) == 1
    }
}
