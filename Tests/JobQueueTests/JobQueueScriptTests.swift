import Foundation
import Synchronization
import TestSupport
import Testing
import VoiceFlowJobQueue
import VoiceFlowRedis

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let millis = Atomic<Int64>(1_000_000)
    var now: Int64 { millis.load(ordering: .relaxed) }
    func advance(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        millis.add(seconds * 1000 + attoseconds / 1_000_000_000_000_000, ordering: .relaxed)
    }
}

/// The Lua state moves, one behaviour each, against the test Redis.
@Suite(.timeLimit(.minutes(2))) struct JobQueueScriptTests {
    static func queue(_ clock: ManualClock = ManualClock()) throws -> (JobQueue, RedisClient, ManualClock) {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        return (JobQueue(name: "test-\(TestEnvironment.uniqueSuffix())", redis: redis, now: { clock.now }), redis, clock)
    }

    static func drain(_ queue: JobQueue) async throws -> [String] {
        var names: [String] = []
        while let job = try await queue.take(lock: .seconds(30)).job {
            names.append(job.data)
            try await queue.complete(job)
        }
        return names
    }

    @Test func fifoLifoAndPriority() async throws {
        let (queue, redis, _) = try Self.queue()
        for index in 1...3 { try await queue.add(name: "n", data: "fifo\(index)") }
        try await queue.add(name: "n", data: "lifo", options: JobOptions(lifo: true))
        try await queue.add(name: "n", data: "p5", options: JobOptions(priority: 5))
        try await queue.add(name: "n", data: "p1", options: JobOptions(priority: 1))
        try await queue.add(name: "n", data: "p1-later", options: JobOptions(priority: 1))
        #expect(try await Self.drain(queue) == ["p1", "p1-later", "p5", "lifo", "fifo1", "fifo2", "fifo3"])
        #expect(try await queue.counts() == JobCounts(waiting: 0, active: 0, delayed: 0, completed: 7, failed: 0, totalCompleted: 7))
        await redis.shutdown()
    }

    @Test func delayedJobsWaitForTheirTime() async throws {
        let (queue, redis, clock) = try Self.queue()
        try await queue.add(name: "n", data: "later", options: JobOptions(delay: .seconds(10)))
        let early = try await queue.take(lock: .seconds(30))
        #expect(early.job == nil)
        #expect(early.nextDelayedAt == clock.now + 10_000)
        clock.advance(.seconds(10))
        #expect(try await queue.take(lock: .seconds(30)).job?.data == "later")
        await redis.shutdown()
    }

    @Test func jobIDsDeduplicate() async throws {
        let (queue, redis, _) = try Self.queue()
        let first = try await queue.add(name: "n", data: "one", options: JobOptions(jobID: "welcome:42"))
        let second = try await queue.add(name: "n", data: "two", options: JobOptions(jobID: "welcome:42"))
        #expect(first == ("welcome:42", true))
        #expect(second == ("welcome:42", false))
        #expect(try await Self.drain(queue) == ["one"])
        await redis.shutdown()
    }

    @Test func failuresRetryWithBackoffThenGoToTheDeadSet() async throws {
        let (queue, redis, clock) = try Self.queue()
        let backoff = JobBackoff.exponential(base: .seconds(2), cap: .seconds(5))
        let (id, _) = try await queue.add(name: "n", data: "flaky", options: JobOptions(attempts: 3, backoff: backoff))
        #expect(backoff.delay(attempt: 1, jitter: 0) == .seconds(2))
        #expect(backoff.delay(attempt: 2, jitter: 0) == .seconds(4))
        #expect(backoff.delay(attempt: 3, jitter: 0) == .seconds(5))
        #expect(try await queue.backoff(of: id) == backoff)

        for attempt in 1...2 {
            let job = try #require(try await queue.take(lock: .seconds(30)).job)
            #expect(job.attemptsMade == attempt - 1)
            #expect(try await queue.fail(job, reason: "boom \(attempt)", retryDelay: backoff.delay(attempt: attempt, jitter: 0)) == .retrying)
            #expect(try await queue.take(lock: .seconds(30)).job == nil)
            clock.advance(backoff.delay(attempt: attempt, jitter: 0))
        }
        let last = try #require(try await queue.take(lock: .seconds(30)).job)
        #expect(try await queue.fail(last, reason: "boom 3", retryDelay: .seconds(5)) == .finished)
        let stored = try #require(try await queue.job(id))
        #expect(stored["state"] == "failed")
        #expect(stored["failedReason"] == "boom 3")
        #expect(stored["attemptsMade"] == "3")
        #expect(try await queue.counts().failed == 1)
        await redis.shutdown()
    }

    @Test func aStaleWorkerCannotFinishARequeuedJob() async throws {
        let (queue, redis, _) = try Self.queue()
        let (id, _) = try await queue.add(name: "n", data: "x")
        let stale = try #require(try await queue.take(lock: .seconds(30)).job)
        // The worker vanished: its lock expires.
        try await redis.send("DEL", queue.prefix + "lock:" + id)
        let swept = try await queue.sweepStalled(maxStalled: 1, interval: .seconds(30))
        #expect(swept.requeued == [id])
        // Another sweep in the same interval does nothing, whichever worker tries.
        #expect(try await queue.sweepStalled(maxStalled: 1, interval: .seconds(30)) == ([], []))

        let fresh = try #require(try await queue.take(lock: .seconds(30)).job)
        #expect(fresh.id == id)
        #expect(try await queue.complete(stale) == .lockLost)
        #expect(try await queue.extendLock(stale, by: .seconds(30)) == false)
        #expect(try await queue.extendLock(fresh, by: .seconds(30)) == true)
        #expect(try await queue.complete(fresh) == .finished)
        #expect(try await queue.counts() == JobCounts(waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0, totalCompleted: 1))
        await redis.shutdown()
    }

    @Test func jobsThatStallTooOftenAreDead() async throws {
        let (queue, redis, _) = try Self.queue()
        let (id, _) = try await queue.add(name: "n", data: "poison")
        for round in 1...2 {
            _ = try #require(try await queue.take(lock: .seconds(30)).job)
            try await redis.send("DEL", queue.prefix + "lock:" + id, queue.prefix + "stalled-check")
            let swept = try await queue.sweepStalled(maxStalled: 1, interval: .seconds(30))
            #expect(round == 1 ? swept.requeued == [id] : swept.failed == [id])
        }
        #expect(try await queue.counts().failed == 1)
        #expect(try await queue.job(id)?["failedReason"] == "job stalled too many times")
        await redis.shutdown()
    }

    @Test func retentionIsBounded() async throws {
        var (queue, redis, _) = try Self.queue()
        queue.keepCompleted = 3
        var ids: [String] = []
        for index in 0..<5 { ids.append(try await queue.add(name: "n", data: "\(index)").id) }
        _ = try await Self.drain(queue)
        #expect(try await queue.counts().completed == 3)
        #expect(try await queue.job(ids[0]) == nil)
        #expect(try await queue.job(ids[4])?["state"] == "completed")
        await redis.shutdown()
    }

    @Test func pausedQueuesHandOutNothing() async throws {
        let (queue, redis, _) = try Self.queue()
        try await queue.add(name: "n", data: "held")
        try await queue.pause()
        #expect(try await queue.take(lock: .seconds(30)).job == nil)
        try await queue.resume()
        #expect(try await queue.take(lock: .seconds(30)).job?.data == "held")
        await redis.shutdown()
    }

    @Test func theRateLimitHoldsAcrossWorkersAndLosesNothing() async throws {
        let (queue, redis, clock) = try Self.queue()
        try await queue.setRateLimit(JobRateLimit(max: 2, per: .seconds(60)))
        #expect(try await queue.rateLimit() == JobRateLimit(max: 2, per: .seconds(60)))
        for index in 1...3 { try await queue.add(name: "n", data: "\(index)") }
        // Two queues on the same keys stand for two worker processes.
        let otherWorker = JobQueue(name: queue.name, redis: redis, now: { clock.now })
        #expect(try await queue.take(lock: .seconds(30)).job?.data == "1")
        #expect(try await otherWorker.take(lock: .seconds(30)).job?.data == "2")
        let limited = try await queue.take(lock: .seconds(30))
        #expect(limited.job == nil)
        let retryAt = try #require(limited.nextDelayedAt)
        #expect(retryAt > clock.now && retryAt <= clock.now + 60_000)
        #expect(try await queue.counts().waiting == 1)
        try await queue.setRateLimit(nil)
        #expect(try await otherWorker.take(lock: .seconds(30)).job?.data == "3")
        await redis.shutdown()
    }

    @Test func stateMovesArePublishedAsEventsWithProgress() async throws {
        let (queue, redis, _) = try Self.queue()
        let (id, _) = try await queue.add(name: "report", data: "{}", options: JobOptions(attempts: 2))
        let job = try #require(try await queue.take(lock: .seconds(30)).job)
        #expect(try await queue.updateProgress(job, "50") == true)
        #expect(try await queue.fail(job, reason: "flaky", retryDelay: .zero) == .retrying)
        #expect(try await queue.updateProgress(job, "60") == false)
        let again = try #require(try await queue.take(lock: .seconds(30)).job)
        try await queue.complete(again, result: "done")
        let events = try await queue.events()
        #expect(events.map(\.event) == ["waiting", "active", "progress", "retrying", "active", "completed"])
        #expect(Set(events.map(\.jobID)) == [id])
        #expect(events[2].fields["progress"] == "50")
        #expect(events[3].fields["reason"] == "flaky")
        #expect(events[5].fields["result"] == "done")
        let stored = try #require(try await queue.job(id))
        #expect(stored["attemptsStarted"] == "2")
        #expect(stored["progress"] == "50")
        // Reading on from an entry gives only what came after it.
        #expect(try await queue.events(after: events[3].id).map(\.event) == ["active", "completed"])
        await redis.shutdown()
    }

    @Test func runAtAndTimeoutTravelWithTheJob() async throws {
        let (queue, redis, clock) = try Self.queue()
        let runAt = Date(timeIntervalSince1970: Double(clock.now + 5000) / 1000)
        try await queue.add(name: "n", data: "at", options: JobOptions(runAt: runAt, timeout: .milliseconds(1500)))
        #expect(try await queue.take(lock: .seconds(30)).nextDelayedAt == clock.now + 5000)
        clock.advance(.seconds(5))
        let job = try #require(try await queue.take(lock: .seconds(30)).job)
        #expect(job.timeout == .milliseconds(1500))
        await redis.shutdown()
    }
}

