import Foundation
import TestSupport
import Testing
import VoiceFlowJobQueue
import VoiceFlowRedis

/// Cron parsing, repeatable jobs (once per tick across schedulers) and the operator actions.
@Suite(.timeLimit(.minutes(2))) struct JobSchedulingTests {
    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    @Test func cronFieldsListsRangesAndSteps() throws {
        let quarterHours = try CronExpression("*/15 * * * *")
        #expect(quarterHours.matches(Self.date("2026-11-25T10:45:30Z")))
        #expect(!quarterHours.matches(Self.date("2026-11-25T10:46:00Z")))
        let weekdayMornings = try CronExpression("0 9 * * 1-5")
        #expect(weekdayMornings.matches(Self.date("2026-11-25T09:00:00Z")))  // a Wednesday
        #expect(!weekdayMornings.matches(Self.date("2026-11-29T09:00:00Z")))  // a Sunday
        let sundays = try CronExpression("30 3 * * 7")
        #expect(sundays.matches(Self.date("2026-11-29T03:30:59Z")))
        // Both day fields restricted: either one matching fires (cron's rule).
        let firstOrMonday = try CronExpression("0 0 1 * 1")
        #expect(firstOrMonday.matches(Self.date("2026-12-01T00:00:00Z")))  // the 1st, a Tuesday
        #expect(firstOrMonday.matches(Self.date("2026-11-30T00:00:00Z")))  // a Monday
        #expect(!firstOrMonday.matches(Self.date("2026-12-02T00:00:00Z")))
        let lists = try CronExpression("5,10-12 0 * 1,6 *")
        #expect(lists.matches(Self.date("2026-06-01T00:11:00Z")))
        #expect(!lists.matches(Self.date("2026-07-01T00:11:00Z")))
    }

    @Test(arguments: ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * 13 *"])
    func badCronExpressionsAreRefused(expression: String) {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression(expression) }
    }

    @Test func repeatableJobsFireOncePerTickHoweverManySchedulersRun() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let clock = ManualClock()
        let name = "repeat-\(TestEnvironment.uniqueSuffix())"
        let jobs = [RepeatableJob(queue: name, name: "tick", schedule: .every(.seconds(10)))]
        let schedulers = (0..<4).map { _ in JobScheduler(redis: redis, jobs: jobs, logger: TestEnvironment.logger(), now: { clock.now }) }
        let queue = JobQueue(name: name, redis: redis, now: { clock.now })
        for _ in 0..<3 {
            // Every scheduler looks several times within the tick; one job is added.
            let added = try await withThrowingTaskGroup(of: Int.self) { group in
                for scheduler in schedulers {
                    group.addTask {
                        var count = 0
                        for _ in 0..<5 { count += await scheduler.runDue().count }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(added == 1)
            clock.advance(.seconds(10))
        }
        #expect(try await queue.counts().waiting == 3)
        await redis.shutdown()
    }

    @Test func cronJobsFireInMatchingMinutesOnly() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let clock = ManualClock()
        let name = "cron-\(TestEnvironment.uniqueSuffix())"
        // ManualClock starts at 1,000,000 ms (00:16:40 UTC on 1 Jan 1970): minute 16.
        let jobs = [RepeatableJob(queue: name, name: "even-minutes", schedule: .cron(try CronExpression("*/2 * * * *")))]
        let scheduler = JobScheduler(redis: redis, jobs: jobs, logger: TestEnvironment.logger(), now: { clock.now })
        var fired: [Bool] = []
        for _ in 0..<4 {
            fired.append(!(await scheduler.runDue()).isEmpty)
            fired.append(!(await scheduler.runDue()).isEmpty)  // the same minute again: nothing
            clock.advance(.seconds(60))
        }
        #expect(fired == [true, false, false, false, true, false, false, false])
        await redis.shutdown()
    }

    @Test func deadJobsAreListedRetriedAndCleaned() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let clock = ManualClock()
        let queue = JobQueue(name: "ops-\(TestEnvironment.uniqueSuffix())", redis: redis, now: { clock.now })
        for index in 0..<3 { try await queue.add(name: "fails", data: "\(index)") }
        while let job = try await queue.take(lock: .seconds(30)).job {
            try await queue.fail(job, reason: "boom \(job.data)", retryDelay: nil)
        }
        let failed = try await queue.failedJobs()
        #expect(failed.count == 3)
        #expect(Set(failed.map(\.reason)) == ["boom 0", "boom 1", "boom 2"])
        #expect(failed.allSatisfy { $0.name == "fails" && $0.attemptsMade == 1 })

        #expect(try await queue.retryFailed(id: failed[0].id) == 1)
        #expect(try await queue.counts() == JobCounts(waiting: 1, active: 0, delayed: 0, completed: 0, failed: 2, totalFailed: 3))
        let retried = try #require(try await queue.take(lock: .seconds(30)).job)
        #expect(retried.id == failed[0].id && retried.attemptsMade == 0)
        try await queue.complete(retried)

        clock.advance(.seconds(60))
        #expect(try await queue.clean(.failed, olderThan: .seconds(120)) == 0)
        #expect(try await queue.clean(.failed, olderThan: .seconds(30)) == 2)
        #expect(try await queue.job(failed[1].id) == nil)
        #expect(try await queue.retryFailed() == 0)
        #expect(try await queue.counts() == JobCounts(waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0, totalCompleted: 1, totalFailed: 3))
        await redis.shutdown()
    }
}
