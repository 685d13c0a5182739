import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VoiceFlowRedis

/// What a running job's handler may use besides its parameters.
public struct JobContext: Sendable {
    /// The job as the worker took it (id, name, tries so far).
    public let job: ActiveJob
    let queue: JobQueue

    /// Records the job's progress and publishes a `progress` event.
    public func progress(_ value: String) async throws {
        try await queue.updateProgress(job, value)
    }
}

/// The error a try fails with when it outlives its `timeout`.
public struct JobTimedOut: Error, CustomStringConvertible, Sendable {
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}

/// Thrown by a handler when trying again cannot help (a bad address, a deleted record): the job
/// goes to the dead set at once, whatever attempts remain.
public struct UnrecoverableJobError: Error, CustomStringConvertible, Sendable {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Handlers by job name. A job's parameters are a `Codable` type, as in swift-jobs.
///
/// ```swift
/// var handlers = JobHandlers()
/// handlers.register("welcome-email", parameters: WelcomeEmail.self) { email in try await send(email) }
/// ```
public struct JobHandlers: Sendable {
    var handlers: [String: @Sendable (JobContext) async throws -> String] = [:]

    public init() {}

    /// Runs `handler` for jobs named `name`, with their data decoded as `Parameters`.
    public mutating func register<Parameters: Decodable & Sendable>(
        _ name: String, parameters: Parameters.Type, handler: @escaping @Sendable (Parameters) async throws -> Void
    ) {
        register(name, parameters: parameters) { parameters, _ in try await handler(parameters) }
    }

    /// Runs `handler` for jobs named `name`, with their data decoded as `Parameters` and the job's
    /// context (for progress reports).
    public mutating func register<Parameters: Decodable & Sendable>(
        _ name: String, parameters: Parameters.Type, handler: @escaping @Sendable (Parameters, JobContext) async throws -> Void
    ) {
        handlers[name] = { context in
            let parameters = try JSONDecoder().decode(Parameters.self, from: Data(context.job.data.utf8))
            try await handler(parameters, context)
            return ""
        }
    }

    /// The registered job names.
    public var names: [String] { handlers.keys.sorted() }
}

/// What became of one try, for metrics.
public struct JobTryReport: Sendable {
    /// How a try ended.
    public enum Outcome: String, Sendable {
        /// Completed.
        case completed
        /// Failed, and scheduled to run again.
        case retrying
        /// Failed for good (the dead set).
        case failed
        /// Given back unfinished because the worker stopped (cancelled), to run again elsewhere.
        case released
        /// Its outcome could not be recorded (Redis unreachable, or the lock was lost): the stalled
        /// sweep will put it back.
        case unrecorded
    }

    public let queue: String
    public let name: String
    public let outcome: Outcome
    /// How long the handler ran.
    public let duration: Duration
}

/// Runs a queue's jobs with bounded concurrency: renews locks while jobs run, retries failures with
/// their backoff, sends jobs without a handler to the dead set, sweeps stalled jobs, and on graceful
/// shutdown stops taking jobs and lets running ones finish.
///
/// It takes nothing before its `startsAfter` signal opens (the jobs service opens it once its HTTP
/// port is bound). When it is cancelled instead (the process is failing), handlers are cancelled
/// and every job they did not finish is given back to the queue (`JobQueue.release`) at once,
/// rather than left active until the stalled sweep. Only the jobs of a process that dies outright
/// (SIGKILL, a crash) wait for the sweep.
public final class JobWorker: Service {
    private let queue: JobQueue
    private let handlers: JobHandlers
    private let concurrency: Int
    private let lockDuration: Duration
    private let stalledInterval: Duration
    private let maxStalled: Int
    private let logger: Logger
    private let startsAfter: StartSignal?
    private let onTry: (@Sendable (JobTryReport) -> Void)?
    private let stopping = Atomic<Bool>(false)
    /// Takers that found nothing to do, waiting for the waiter's wake-up, and how many wake-ups
    /// there have been (a taker that looked before the latest one does not wait).
    private let idle = Mutex<(generation: Int, waiting: [CheckedContinuation<Void, Never>])>((0, []))
    /// When the earliest delayed job seen is due (ms since 1970; 0: none known).
    private let nextDue = Atomic<Int64>(0)

    /// Creates a worker; nothing runs until `run()`, and no job is taken before `startsAfter`
    /// (when given) opens. `onTry` hears how every try ended and how long it ran.
    public init(
        queue: JobQueue, handlers: JobHandlers, concurrency: Int = 4, lockDuration: Duration = .seconds(30),
        stalledInterval: Duration = .seconds(30), maxStalled: Int = 1, startsAfter: StartSignal? = nil,
        onTry: (@Sendable (JobTryReport) -> Void)? = nil, logger: Logger
    ) {
        self.startsAfter = startsAfter
        self.onTry = onTry
        self.queue = queue
        self.handlers = handlers
        self.concurrency = max(1, concurrency)
        self.lockDuration = lockDuration
        self.stalledInterval = stalledInterval
        self.maxStalled = maxStalled
        self.logger = logger
    }

    /// Processes jobs until graceful shutdown or cancellation (once `startsAfter` opened).
    public func run() async throws {
        if let startsAfter {
            do {
                try await cancelWhenGracefulShutdown { try await startsAfter.wait() }
            } catch {
                return  // stopped before it started: nothing was taken
            }
            guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask { await self.takeJobs() }
                }
                // One blocking wait per worker (not per taker), on a connection of its own, so
                // idle takers never hold up the commands of busy ones.
                group.addTask {
                    let blocking = self.queue.redis.dedicated()
                    await self.wakeIdleTakers(blocking: blocking)
                    await blocking.shutdown()
                }
                // The sweeper only sleeps between sweeps: it stops at once on shutdown.
                group.addTask { await cancelWhenGracefulShutdown { await self.sweepStalledJobs() } }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.wakeAll()
        }
    }

    private func wakeAll() {
        let waiting = idle.withLock { idle in
            defer {
                idle.waiting.removeAll()
                idle.generation &+= 1
            }
            return idle.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    private var wakeGeneration: Int { idle.withLock { $0.generation } }

    /// Waits for the next wake-up, unless one happened since `generation` was read.
    private func waitForWakeUp(after generation: Int) async {
        await withCheckedContinuation { continuation in
            let stopping = isStopping
            let waits = idle.withLock { idle in
                guard !stopping, idle.generation == generation else { return false }
                idle.waiting.append(continuation)
                return true
            }
            if !waits { continuation.resume() }
        }
    }

    private func wakeIdleTakers(blocking: RedisClient) async {
        while !isStopping {
            var wait = Duration.seconds(1)
            let due = nextDue.load(ordering: .relaxed)
            if due > 0 { wait = min(wait, .milliseconds(max(1, due - queue.now()))) }
            await queue.waitForWork(timeout: wait, on: blocking)
            nextDue.store(0, ordering: .relaxed)
            wakeAll()
        }
        wakeAll()
    }

    private var isStopping: Bool {
        stopping.load(ordering: .relaxed) || Task.isCancelled
    }

    private func takeJobs() async {
        var failures = 0
        while !isStopping {
            do {
                let generation = wakeGeneration
                let (job, nextDelayedAt) = try await queue.take(lock: lockDuration)
                failures = 0
                if let job {
                    await process(job)
                } else {
                    if let nextDelayedAt {
                        let current = nextDue.load(ordering: .relaxed)
                        if current == 0 || nextDelayedAt < current { nextDue.store(nextDelayedAt, ordering: .relaxed) }
                    }
                    await waitForWakeUp(after: generation)
                }
            } catch {
                failures += 1
                logger.warning("Job queue unavailable", metadata: ["queue": "\(queue.name)", "attempt": "\(failures)"])
                try? await Task.sleep(for: .milliseconds(min(5000, 100 * (1 << min(failures, 6)))))
            }
        }
    }

    private func process(_ job: ActiveJob) async {
        var metadata: Logger.Metadata = ["job.id": "\(job.id)", "job.name": "\(job.name)", "queue": "\(queue.name)"]
        guard let handler = handlers.handlers[job.name] else {
            let failed = try? await queue.fail(job, reason: "no handler is registered for \(job.name)", retryDelay: nil)
            logger.error("Job has no handler", metadata: metadata)
            onTry?(JobTryReport(queue: queue.name, name: job.name, outcome: failed == .finished ? .failed : .unrecorded, duration: .zero))
            return
        }
        let started = ContinuousClock.now
        let outcome: Result<String, any Error> = await withTaskGroup(of: Result<String, any Error>?.self) { group in
            let context = JobContext(job: job, queue: queue)
            group.addTask {
                do { return .success(try await handler(context)) } catch { return .failure(error) }
            }
            group.addTask { await self.renewLock(of: job); return nil }
            if let timeout = job.timeout {
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return nil }
                    return .failure(JobTimedOut(timeout: timeout))
                }
            }
            let result = await group.next() ?? nil
            group.cancelAll()
            return result ?? .failure(CancellationError())
        }
        let duration = ContinuousClock.now - started
        let reported: JobTryReport.Outcome
        do {
            switch outcome {
            case .success(let result):
                reported = try await queue.complete(job, result: result) == .lockLost ? .unrecorded : .completed
            case .failure where Task.isCancelled:
                // The worker was cancelled, not the job at fault: hand it back untried.
                reported = try await queue.release(job) ? .released : .unrecorded
                logger.notice("Unfinished job released", metadata: metadata)
            case .failure(let error):
                var retryDelay: Duration?
                if !(error is UnrecoverableJobError) {
                    retryDelay = try await queue.backoff(of: job.id).delay(attempt: job.attemptsMade + 1)
                }
                let finish = try await queue.fail(job, reason: String(describing: error), retryDelay: retryDelay)
                reported = switch finish {
                case .retrying: .retrying
                case .finished: .failed
                case .lockLost: .unrecorded
                }
                metadata["job.outcome"] = "\(finish)"
                logger.warning("Job failed", metadata: metadata)
            }
        } catch {
            // The lock expires and the stalled sweep puts the job back.
            reported = .unrecorded
            logger.error("Job result not recorded", metadata: metadata)
        }
        onTry?(JobTryReport(queue: queue.name, name: job.name, outcome: reported, duration: duration))
    }

    private func renewLock(of job: ActiveJob) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: lockDuration / 2)
            guard !Task.isCancelled else { return }
            if (try? await queue.extendLock(job, by: lockDuration)) == false { return }
        }
    }

    private func sweepStalledJobs() async {
        while !isStopping {
            if let (requeued, failed) = try? await queue.sweepStalled(maxStalled: maxStalled, interval: stalledInterval),
                !(requeued.isEmpty && failed.isEmpty)
            {
                logger.warning(
                    "Stalled jobs swept", metadata: ["queue": "\(queue.name)", "requeued": "\(requeued.count)", "failed": "\(failed.count)"])
            }
            try? await Task.sleep(for: stalledInterval)
        }
    }
}
