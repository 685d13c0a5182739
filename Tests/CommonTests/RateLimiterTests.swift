import HTTPTypes
import TestSupport
import Testing
@testable import VoiceFlowCommon
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

    /// Failures, not attempts: free ones pass, then waits start (ten minutes here, so the test never
    /// outlives one); a success clears them; a pass waives a rule for its holder.
    @Test func failureBackoffCountsFailuresAndHonoursPasses() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let limiter = RateLimiter(redis: redis, enabled: true, logger: TestEnvironment.logger())
        let suffix = TestEnvironment.uniqueSuffix()
        let rule = FailureBackoffRule(
            name: "fail-\(suffix)", freeFailures: 2, firstDelay: .seconds(600), maximumDelay: .seconds(3600), memory: .seconds(60))
        let check = FailureCheck(rule, subject: "guessed@example.com")
        for _ in 0..<5 { try await limiter.checkFailures([check]) }
        await limiter.recordFailure([check])
        await limiter.recordFailure([check])
        try await limiter.checkFailures([check])
        await limiter.recordFailure([check])
        do {
            try await limiter.checkFailures([check])
            Issue.record("a third failure starts a wait")
        } catch let error {
            #expect(error.code == .rateLimited)
            #expect(error.headers[.retryAfter].flatMap(Int.init).map { (590...600).contains($0) } == true)
        }
        // Another subject is unaffected; a pass waives the rule for its holder only.
        try await limiter.checkFailures([FailureCheck(rule, subject: "other@example.com")])
        let pass = "pass-\(suffix)"
        await limiter.grantPass(pass, subject: "owner", lifetime: .seconds(60))
        try await limiter.checkFailures([FailureCheck(rule, subject: "guessed@example.com", waivedBy: (pass, "owner"))])
        await #expect(throws: APIError.self) {
            try await limiter.checkFailures([FailureCheck(rule, subject: "guessed@example.com", waivedBy: (pass, "stranger"))])
        }
        // Every key the scripts touched was named, and expires on its own.
        let ttl = try await redis.send("PTTL", RateLimiter.key(backoff: rule, subject: "guessed@example.com")).int ?? -1
        #expect(ttl > 590_000 && ttl <= 600_000)
        await limiter.clearFailures(rule, subject: "guessed@example.com")
        try await limiter.checkFailures([check])
        await redis.shutdown()
    }

    @Test func failureBackoffWaitsDoubleUpToTheirMaximum() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let limiter = RateLimiter(redis: redis, enabled: true, logger: TestEnvironment.logger())
        let rule = FailureBackoffRule(
            name: "double-\(TestEnvironment.uniqueSuffix())", freeFailures: 0, firstDelay: .seconds(600), maximumDelay: .seconds(1500),
            memory: .seconds(60))
        let check = FailureCheck(rule, subject: "x")
        var waits: [Int] = []
        for _ in 0..<4 {
            await limiter.recordFailure([check])
            do {
                try await limiter.checkFailures([check])
            } catch let error {
                waits.append(error.headers[.retryAfter].flatMap(Int.init) ?? 0)
            }
        }
        #expect(waits.count == 4)
        #expect(zip(waits, [600, 1200, 1500, 1500]).allSatisfy { abs($0 - $1) <= 10 })
        let disabled = RateLimiter(redis: redis, enabled: false, logger: TestEnvironment.logger())
        try await disabled.checkFailures([check])
        await redis.shutdown()
    }
}
