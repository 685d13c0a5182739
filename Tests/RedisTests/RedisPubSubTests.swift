import Logging
import ServiceLifecycle
import TestSupport
import Testing
import VoiceFlowRedis

/// Pub/sub against real redis-server processes, including a Redis crash mid-subscription.
@Suite(.timeLimit(.minutes(2))) struct RedisPubSubTests {
    /// Runs `body` with a running subscriber and a publishing client on `server`.
    static func withPubSub(
        _ server: RedisServerProcess,
        _ body: @Sendable (RedisSubscriber, RedisClient) async throws -> Void
    ) async throws {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectMaxDelay = .milliseconds(300)
        let subscriber = RedisSubscriber(configuration: configuration, logger: TestEnvironment.logger("subscriber"))
        let publisher = RedisClient(configuration: configuration, logger: TestEnvironment.logger("publisher"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            defer { group.cancelAll() }
            try await body(subscriber, publisher)
            await subscriber.shutdown()
            await publisher.shutdown()
        }
    }

    /// Publishes until at least one subscriber received it (the subscription may be re-establishing).
    static func publishUntilDelivered(_ publisher: RedisClient, _ channel: String, _ message: String) async throws {
        for _ in 0..<200 {
            if let receivers = try? await publisher.publish(channel, message), receivers > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("nobody was subscribed to \(channel)")
    }

    @Test func messagesReachEverySubscriptionOfAChannel() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withPubSub(server) { subscriber, publisher in
            let first = try await subscriber.subscribe(["room:1"])
            let second = try await subscriber.subscribe(["room:1", "room:2"])
            #expect(try await publisher.publish("room:1", "hello") == 1)  // one connection, however many subscriptions
            try await publisher.publish("room:2", "only second")
            var firstIterator = first.makeAsyncIterator()
            var secondIterator = second.makeAsyncIterator()
            #expect(await firstIterator.next() == RedisPubSubMessage(channel: "room:1", pattern: nil, payload: Array("hello".utf8)))
            #expect(await secondIterator.next()?.string == "hello")
            #expect(await secondIterator.next()?.channel == "room:2")

            // Dropping one subscription keeps the channel for the other.
            await first.unsubscribe()
            #expect(await firstIterator.next() == nil)
            try await publisher.publish("room:1", "still here")
            #expect(await secondIterator.next()?.string == "still here")

            // Dropping the last one unsubscribes on the server.
            await second.unsubscribe()
            var receivers = 1
            for _ in 0..<100 where receivers > 0 {
                receivers = try await publisher.publish("room:1", "gone")
                if receivers > 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(receivers == 0)
        }
    }

    @Test func patternSubscriptionsCarryThePattern() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withPubSub(server) { subscriber, publisher in
            let rooms = try await subscriber.psubscribe(["room:*"])
            try await publisher.publish("other", "ignored")
            try await publisher.publish("room:9", "matched")
            var iterator = rooms.makeAsyncIterator()
            let message = await iterator.next()
            #expect(message?.pattern == "room:*")
            #expect(message?.channel == "room:9")
            #expect(message?.string == "matched")
        }
    }

    @Test func subscriptionsSurviveARedisCrash() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withPubSub(server) { subscriber, publisher in
            let subscription = try await subscriber.subscribe(["events"])
            let patterned = try await subscriber.psubscribe(["user:*"])
            var iterator = subscription.makeAsyncIterator()
            var patternIterator = patterned.makeAsyncIterator()
            try await publisher.publish("events", "before")
            #expect(await iterator.next()?.string == "before")
            #expect(subscriber.isAttached)

            server.kill()
            // It notices the lost connection (what a gateway's readiness reports).
            var attached = true
            for _ in 0..<250 where attached {
                attached = subscriber.isAttached
                if attached { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(!attached)
            try await server.restart()

            // The same subscription objects receive again: the subscriber re-subscribed by itself.
            try await Self.publishUntilDelivered(publisher, "events", "after")
            #expect(await iterator.next()?.string == "after")
            try await Self.publishUntilDelivered(publisher, "user:7", "pattern after")
            #expect(await patternIterator.next()?.string == "pattern after")
            #expect(subscriber.isAttached)
        }
    }

    @Test func shutdownEndsEverySubscription() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await Self.withPubSub(server) { subscriber, _ in
            let subscription = try await subscriber.subscribe(["x"])
            await subscriber.shutdown()
            var iterator = subscription.makeAsyncIterator()
            #expect(await iterator.next() == nil)
            await #expect(throws: RedisError.clientClosed) { try await subscriber.subscribe(["y"]) }
        }
    }
}
