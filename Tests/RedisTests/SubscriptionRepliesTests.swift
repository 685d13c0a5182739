import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import TestSupport
import Testing
@testable import VoiceFlowRedis

/// Replies by request name, filled on the embedded channel's loop.
private final class Replies: Sendable {
    let values = Mutex<[String: RESPValue]>([:])
    subscript(name: String) -> RESPValue? { values.withLock { $0[name] } }
}

/// Subscription commands get one confirmation per channel or pattern: every promise must wait for
/// all of its own, so the replies of later commands stay matched to theirs.
@Suite(.timeLimit(.minutes(2))) struct SubscriptionRepliesTests {
    static func confirmation(_ kind: String, _ name: String?, _ count: Int) -> String {
        let nameBytes = name.map { "$\($0.utf8.count)\r\n\($0)\r\n" } ?? "$-1\r\n"
        return "*3\r\n$\(kind.utf8.count)\r\n\(kind)\r\n\(nameBytes):\(count)\r\n"
    }

    /// Byte level: `UNSUBSCRIBE a b`'s promise takes both confirmations; the next command gets its own.
    @Test func multiNameCommandsWaitForEveryConfirmation() throws {
        let channel = EmbeddedChannel(handler: RedisChannelHandler(onMessage: { _ in }))
        defer { _ = try? channel.finish() }
        func request(_ words: [String]) throws -> EventLoopFuture<RESPValue> {
            let promise = channel.eventLoop.makePromise(of: RESPValue.self)
            try channel.writeOutbound(RedisRequest(commands: [words.map { Array($0.utf8) }], replies: [promise]))
            return promise.futureResult
        }
        let subscribe = try request(["SUBSCRIBE", "a", "b"])
        let unsubscribe = try request(["UNSUBSCRIBE", "a", "b"])
        let psubscribe = try request(["PSUBSCRIBE", "p:*", "q:*"])
        let punsubscribeAll = try request(["PUNSUBSCRIBE"])
        let unsubscribeNone = try request(["UNSUBSCRIBE"])
        let next = try request(["SUBSCRIBE", "c"])
        let results = Replies()
        for (name, future) in [
            ("subscribe", subscribe), ("unsubscribe", unsubscribe), ("psubscribe", psubscribe),
            ("punsubscribeAll", punsubscribeAll), ("unsubscribeNone", unsubscribeNone), ("next", next),
        ] {
            future.whenSuccess { reply in results.values.withLock { $0[name] = reply } }
        }
        func feed(_ replies: String...) throws {
            try channel.writeInbound(ByteBuffer(string: replies.joined()))
        }
        try feed(Self.confirmation("subscribe", "a", 1))
        #expect(results["subscribe"] == nil)
        try feed(Self.confirmation("subscribe", "b", 2), Self.confirmation("unsubscribe", "a", 1))
        #expect(results["subscribe"]?.array?[1].string == "b")
        #expect(results["unsubscribe"] == nil)
        try feed(Self.confirmation("unsubscribe", "b", 0), Self.confirmation("psubscribe", "p:*", 1))
        #expect(results["unsubscribe"]?.array?[1].string == "b")
        #expect(results["psubscribe"] == nil)
        try feed(Self.confirmation("psubscribe", "q:*", 2), Self.confirmation("punsubscribe", "q:*", 1))
        #expect(results["psubscribe"] != nil)
        #expect(results["punsubscribeAll"] == nil)  // one pattern is still subscribed
        try feed(Self.confirmation("punsubscribe", "p:*", 0))
        #expect(results["punsubscribeAll"]?.array?[1].string == "p:*")
        // An unsubscribe-all with nothing subscribed is answered once, with a nil name.
        try feed(Self.confirmation("unsubscribe", nil, 0))
        #expect(results["unsubscribeNone"] != nil)
        #expect(results["next"] == nil)
        try feed(Self.confirmation("subscribe", "c", 1))
        #expect(results["next"]?.array?[1].string == "c")
    }

    /// Against redis-server: after a multi-name UNSUBSCRIBE and PUNSUBSCRIBE, each later command's
    /// reply is its own.
    @Test func repliesStayMatchedOnARealServer() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let configuration = try RedisConfiguration(url: server.url)
        let connection = try await RedisConnection.connect(configuration, group: NIOSingletons.posixEventLoopGroup) { _ in }
        defer { connection.close() }
        func send(_ words: String...) async throws -> RESPValue {
            try await connection.send([words.map { Array($0.utf8) }], timeout: .seconds(5))[0]
        }
        #expect(try await send("SUBSCRIBE", "a", "b", "c").array?[1].string == "c")
        connection.sendWithoutWaiting(["UNSUBSCRIBE", "a", "b"].map { Array($0.utf8) })
        #expect(try await send("SUBSCRIBE", "d") == .array([.bulkString(Array("subscribe".utf8)), .bulkString(Array("d".utf8)), .integer(2)]))
        #expect(try await send("PSUBSCRIBE", "x:*", "y:*").array?[2] == .integer(4))
        connection.sendWithoutWaiting(["PUNSUBSCRIBE", "x:*", "y:*"].map { Array($0.utf8) })
        #expect(try await send("SUBSCRIBE", "e").array?[2] == .integer(3))
        #expect(try await send("UNSUBSCRIBE").array?[2] == .integer(0))
        #expect(try await send("PING") == .simpleString("PONG"))  // out of subscriber mode again
    }

    /// Through the subscriber: dropping a two-channel subscription, then subscribing again, returns
    /// only once Redis confirmed the new channel, and its messages arrive.
    @Test func resubscribingAfterAMultiChannelUnsubscribeWaitsForItsOwnConfirmation() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let configuration = try RedisConfiguration(url: server.url)
        let subscriber = RedisSubscriber(configuration: configuration, logger: TestEnvironment.logger("subscriber"))
        let publisher = RedisClient(configuration: configuration, logger: TestEnvironment.logger("publisher"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            defer { group.cancelAll() }
            for round in 0..<20 {
                let pair = try await subscriber.subscribe(["a\(round)", "b\(round)"])
                await pair.unsubscribe()
                let single = try await subscriber.subscribe(["c\(round)"])
                #expect(try await publisher.publish("c\(round)", "hello") == 1)
                var iterator = single.makeAsyncIterator()
                #expect(await iterator.next()?.string == "hello")
                await single.unsubscribe()
            }
            await subscriber.shutdown()
            await publisher.shutdown()
        }
    }
}
