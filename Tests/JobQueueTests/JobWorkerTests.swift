import Foundation
import Logging
import ServiceLifecycle
import TestSupport
import Testing
import VoiceFlowJobQueue
import VoiceFlowRedis

struct Numbered: Codable, Sendable {
    var number: Int
}

@Suite(.timeLimit(.minutes(2))) struct JobWorkerTests {
    @Test func workersRunEveryJobRetryFailuresAndDrainOnShutdown() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let queue = JobQueue(name: "worker-\(TestEnvironment.uniqueSuffix())", redis: redis)
        let (done, doneContinuation) = AsyncStream.makeStream(of: Int.self)
        var handlers = JobHandlers()
        handlers.register("count", parameters: Numbered.self) { job in doneContinuation.yield(job.number) }
        let attemptsOfFlaky = AttemptCounter()
        handlers.register("flaky", parameters: Numbered.self) { job in
            if await attemptsOfFlaky.next() == 1 { throw FlakyError() }
            doneContinuation.yield(job.number)
        }
        for number in 1...50 { try await queue.add(name: "count", data: #"{"number":\#(number)}"#) }
        try await queue.add(name: "flaky", data: #"{"number":1000}"#, options: JobOptions(attempts: 2, backoff: .fixed(.milliseconds(10))))
        let (orphan, _) = try await queue.add(name: "nobody-handles-this", data: "{}")

        let worker = JobWorker(queue: queue, handlers: handlers, concurrency: 4, logger: TestEnvironment.logger("worker"))
        try await Self.run(worker) {
            var seen = Set<Int>()
            for await number in done {
                seen.insert(number)
                if seen.count == 51 { break }
            }
            #expect(seen == Set(1...50).union([1000]))
        }
        let counts = try await queue.counts()
        #expect(counts.active == 0)
        #expect(counts.completed == 51)
        #expect(counts.failed == 1)
        #expect(try await queue.job(orphan)?["failedReason"]?.contains("no handler") == true)
        #expect(await attemptsOfFlaky.count == 2)
        await redis.shutdown()
    }
}

extension JobWorkerTests {
    @Test func aTryThatOutlivesItsTimeoutFailsAndReportsProgressOnTheWay() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let queue = JobQueue(name: "timeout-\(TestEnvironment.uniqueSuffix())", redis: redis)
        var handlers = JobHandlers()
        handlers.register("slow", parameters: Numbered.self) { _, context in
            try await context.progress("started")
            try await Task.sleep(for: .seconds(60))
        }
        let (id, _) = try await queue.add(name: "slow", data: #"{"number":1}"#, options: JobOptions(timeout: .milliseconds(200)))
        let worker = JobWorker(queue: queue, handlers: handlers, concurrency: 1, logger: TestEnvironment.logger("worker"))
        try await Self.run(worker) { try await Self.waitForEvent(in: queue, redis: redis, named: ["failed"]) }
        let stored = try #require(try await queue.job(id))
        #expect(stored["state"] == "failed")
        #expect(stored["failedReason"]?.contains("timed out") == true)
        #expect(stored["progress"] == "started")
        await redis.shutdown()
    }
}

extension JobWorkerTests {
    @Test func anUnrecoverableFailureSkipsTheRemainingAttempts() async throws {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let queue = JobQueue(name: "unrecoverable-\(TestEnvironment.uniqueSuffix())", redis: redis)
        var handlers = JobHandlers()
        handlers.register("hopeless", parameters: Numbered.self) { _ in throw UnrecoverableJobError("the address does not exist") }
        let (id, _) = try await queue.add(name: "hopeless", data: #"{"number":1}"#, options: JobOptions(attempts: 5, backoff: .fixed(.zero)))
        let worker = JobWorker(queue: queue, handlers: handlers, concurrency: 1, logger: TestEnvironment.logger("worker"))
        try await Self.run(worker) { try await Self.waitForEvent(in: queue, redis: redis, named: ["failed", "retrying"]) }
        let stored = try #require(try await queue.job(id))
        #expect(stored["state"] == "failed")
        #expect(stored["attemptsMade"] == "1")
        #expect(stored["failedReason"] == "the address does not exist")
        await redis.shutdown()
    }
}

extension JobWorkerTests {
    /// Runs `worker` until `body` returns, then shuts it down gracefully and waits for it.
    static func run(_ worker: JobWorker, until body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [worker], logger: TestEnvironment.logger("group")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Waits until `queue`'s events stream records one of `names`.
    static func waitForEvent(in queue: JobQueue, redis: RedisClient, named names: Set<String>) async throws {
        let blocking = redis.dedicated()
        do {
            _ = try await queue.waitForEvent(on: blocking) { names.contains($0.event) }
            await blocking.shutdown()
        } catch {
            await blocking.shutdown()
            throw error
        }
    }
}

actor AttemptCounter {
    private(set) var count = 0
    func next() -> Int {
        count += 1
        return count
    }
}

struct FlakyError: Error {}
