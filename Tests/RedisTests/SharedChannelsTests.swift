import Synchronization
import TestSupport
import Testing
import VoiceFlowRedis

/// Reference-counted channels on a real redis-server: one subscription and one value per channel
/// however many holders, and the subscription ends with the last release only.
@Suite(.timeLimit(.minutes(2))) struct SharedChannelsTests {
    final class Value: Sendable {}

    final class Subscriptions: Sendable {
        let opened = Mutex<[RedisSubscription]>([])
    }

    @Test func holdersShareOneSubscriptionUntilTheLastRelease() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await RedisPubSubTests.withPubSub(server) { subscriber, publisher in
            let channels = SharedChannels<Value>(subscriber: subscriber)
            let seen = Subscriptions()
            let values = try await withThrowingTaskGroup(of: Value.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        try await channels.retain("shared", make: { Value() }) { subscription, _ in
                            seen.opened.withLock { $0.append(subscription) }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(values.count == 5)
            #expect(values.allSatisfy { $0 === values[0] })
            #expect(channels.holders(of: "shared") == 5)
            let subscription = try #require(seen.opened.withLock { $0.count == 1 ? $0.first : nil })
            // Subscribed once every retain returned: a publish now is heard.
            #expect(try await publisher.publish("shared", "hello") == 1)
            var messages = subscription.makeAsyncIterator()
            #expect(await messages.next()?.payload == Array("hello".utf8))

            for _ in 0..<4 { #expect(await !channels.release("shared")) }
            #expect(channels.holders(of: "shared") == 1)
            #expect(channels.value(of: "shared") === values[0])
            #expect(await channels.release("shared"))
            #expect(channels.count == 0)
            // The subscription ended with the last release.
            #expect(await messages.next() == nil)
            // A release too many changes nothing; a new retain starts afresh.
            #expect(await !channels.release("shared"))
            let fresh = try await channels.retain("shared", make: { Value() })
            #expect(fresh !== values[0])
            #expect(await channels.release("shared"))
        }
    }
}
