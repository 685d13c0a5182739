#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import TestSupport
import Testing
@testable import VoiceFlowRedis

/// The client's sockets carry only options an unprivileged process may set: a service in a
/// container without CAP_NET_ADMIN is refused SO_DEBUG, and its connection with it (TCP_NODELAY
/// set at the socket level is SO_DEBUG).
@Suite(.timeLimit(.minutes(1))) struct RedisSocketOptionsTests {
    @Test func aConnectionHasNoDelayAndKeepaliveAndNoDebugging() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let connection = try await RedisConnection.connect(try RedisConfiguration(url: server.url), group: MultiThreadedEventLoopGroup.singleton)
        defer { connection.close() }
        let channel = connection.channel
        #expect(try await channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).get() == 0)
        #expect(try await channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
        #expect(try await channel.getOption(.socketOption(.so_keepalive)).get() != 0)
    }
}
