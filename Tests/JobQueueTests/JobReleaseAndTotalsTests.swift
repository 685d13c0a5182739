import Foundation
import Logging
import TestSupport
import Testing
import VoiceFlowJobQueue
import VoiceFlowRedis

/// What a stopping worker gives back, and the lifetime totals beside the retained counts.
@Suite(.timeLimit(.minutes(2))) struct JobReleaseAndTotalsTests {
    static func client() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
    }

    /// A worker cancelled mid-job (its process is failing) gives the job back at once, untried,
    /// instead of leaving it active for the stalled sweep or spending its only attempt.
    @Test func aCancelledWorkerReleasesTheJobsItHolds() async throws {
        let redis = try Self.client()
        let queue = JobQueue(name: "release-\(TestEnvironment.uniqueSuffix())", redis: redis)
        let (started, startedContinuation) = AsyncStream.makeStream(of: String.self)
        var handlers = JobHandlers()
        handlers.register("hold", parameters: Numbered.self) { _, context in
            startedContinuation.yield(context.job.id)
            try await Task.sleep(for: .seconds(3600))  // until cancelled
        }
        let (id, _) = try await queue.add(name: "hold", data: #"{"number":1}"#)
        let worker = JobWorker(
            queue: queue, handlers: handlers, concurrency: 2, lockDuration: .seconds(60), logger: TestEnvironment.logger("worker"))
        let running = Task { try await worker.run() }
        var iterator = started.makeAsyncIterator()
        #expect(await iterator.next() == id)
        running.cancel()
        try await running.value

        let counts = try await queue.counts()
        #expect(counts.active == 0)
        #expect(counts.waiting == 1)
        #expect(counts.failed == 0)
        let stored = try #require(try await queue.job(id))
        #expect(stored["state"] == "waiting")
        #expect(stored["attemptsMade"] == "0")
        #expect(stored["attemptsStarted"] == "0")
        #expect(try await redis.send("EXISTS", queue.prefix + "lock:" + id).int == 0)
        #expect(try await queue.events().contains { $0.event == "released" && $0.jobID == id })
        // The released job is the next one taken.
        #expect(try await queue.take(lock: .seconds(30)).job?.id == id)
        await redis.shutdown()
    }

    /// A worker whose start signal never opened takes nothing, and stops when cancelled.
    @Test func aWorkerTakesNothingBeforeItsStartSignal() async throws {
        let redis = try Self.client()
        let queue = JobQueue(name: "gate-\(TestEnvironment.uniqueSuffix())", redis: redis)
        let ran = AttemptCounter()
        var handlers = JobHandlers()
        handlers.register("count", parameters: Numbered.self) { _ in _ = await ran.next() }
        for number in 1...5 { try await queue.add(name: "count", data: #"{"number":\#(number)}"#) }
        let signal = StartSignal()
        let worker = JobWorker(queue: queue, handlers: handlers, startsAfter: signal, logger: TestEnvironment.logger("worker"))
        let running = Task { try await worker.run() }
        running.cancel()
        try await running.value
        #expect(await ran.count == 0)
        #expect(try await queue.counts().waiting == 5)
        #expect(try await queue.events().allSatisfy { $0.event == "waiting" })

        // Once open, the same kind of worker takes them all.
        let (done, doneContinuation) = AsyncStream.makeStream(of: Void.self)
        var counting = JobHandlers()
        counting.register("count", parameters: Numbered.self) { _ in doneContinuation.yield() }
        let opened = StartSignal()
        let second = JobWorker(queue: queue, handlers: counting, startsAfter: opened, logger: TestEnvironment.logger("worker"))
        let secondRun = Task { try await second.run() }
        opened.open()
        var finished = 0
        for await _ in done {
            finished += 1
            if finished == 5 { break }
        }
        secondRun.cancel()
        try await secondRun.value
        await redis.shutdown()
    }

    /// `completed` and `failed` are what is kept (bounded by keepCompleted/keepFailed); the totals
    /// count every finish.
    @Test func totalsCountEveryFinishWhateverTheRetentionKeeps() async throws {
        let redis = try Self.client()
        var queue = JobQueue(name: "totals-\(TestEnvironment.uniqueSuffix())", redis: redis)
        queue.keepCompleted = 2
        queue.keepFailed = 1
        for index in 0..<7 { try await queue.add(name: "n", data: "\(index)", options: JobOptions(attempts: index < 2 ? 2 : 1)) }
        var tries = 0
        while let job = try await queue.take(lock: .seconds(30)).job {
            tries += 1
            if job.data == "0" || job.data == "1" {
                try await queue.fail(job, reason: "boom", retryDelay: job.attemptsMade == 0 ? .zero : nil)
            } else if job.data == "2" {
                try await queue.fail(job, reason: "boom", retryDelay: nil)
            } else {
                try await queue.complete(job)
            }
        }
        #expect(tries == 9)
        let counts = try await queue.counts()
        #expect(counts.completed == 2)  // kept
        #expect(counts.failed == 1)  // kept
        #expect(counts.totalCompleted == 4)
        #expect(counts.totalFailed == 3)
        #expect(counts.totalRetried == 2)
        #expect(counts.processed == 7)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(counts)) as? [String: Int]
        #expect(json?["processed"] == 7 && json?["totalFailed"] == 3 && json?["completed"] == 2)
        await redis.shutdown()
    }
}
