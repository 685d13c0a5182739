import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowRedis

@Suite(.timeLimit(.minutes(3))) struct RateLimiterTests {
    /// Two processes' worth of clients: the limit holds across them, as it must across service instances.
    @Test func theLimitHoldsAcrossInstances() async throws {
        let configuration = try RedisConfiguration(url: TestEnvironment.redisURL)
        let first = RedisClient(configuration: configuration, logger: TestEnvironment.logger())
        let second = RedisClient(configuration: configuration, logger: TestEnvironment.logger())
        let limiters = [
            RateLimiter(redis: first, enabled: true, logger: TestEnvironment.logger()),
            RateLimiter(redis: second, enabled: true, logger: TestEnvironment.logger()),
        ]
        let rule = RateLimitRule(name: "shared-\(TestEnvironment.uniqueSuffix())", limit: 3, period: .seconds(60))
        var outcomes: [Bool] = []
        for attempt in 0..<5 {
            do {
                try await limiters[attempt % 2].check(rule, subject: "someone@example.com")
                outcomes.append(true)
            } catch let error {
                #expect(error.code == .rateLimited)
                outcomes.append(false)
            }
        }
        #expect(outcomes == [true, true, true, false, false])

        // Another subject has its own budget; disabled limiters allow everything.
        try await limiters[0].check(rule, subject: "someone-else@example.com")
        let disabled = RateLimiter(redis: first, enabled: false, logger: TestEnvironment.logger())
        try await disabled.check(rule, subject: "someone@example.com")
        await first.shutdown()
        await second.shutdown()
    }

    @Test func anUnreachableRedisFailsOpen() async throws {
        let redis = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1), logger: TestEnvironment.logger())
        let limiter = RateLimiter(redis: redis, enabled: true, logger: TestEnvironment.logger())
        let rule = RateLimitRule(name: "open", limit: 1, period: .seconds(60))
        for _ in 0..<3 {
            try await limiter.check(rule, subject: "x")
        }
        await redis.shutdown()
    }
}
