import Foundation
import VoiceFlowRedis

/// A job taken by a worker: its id, handler name, parameters and the lock token that proves it is
/// still this worker's.
public struct ActiveJob: Sendable, Equatable {
    public let id: String
    public let name: String
    public let data: String
    /// Finished tries before this one.
    public let attemptsMade: Int
    public let token: String
    /// How long one try may run (`nil`: no limit).
    public let timeout: Duration?

    public init(id: String, name: String, data: String, attemptsMade: Int, token: String, timeout: Duration? = nil) {
        self.id = id
        self.name = name
        self.data = data
        self.attemptsMade = attemptsMade
        self.token = token
        self.timeout = timeout
    }
}

/// Job counts per state, and the queue's lifetime totals.
///
/// `completed` and `failed` are the finished jobs the queue still keeps (at most its
/// `keepCompleted` / `keepFailed`, older ones are deleted); `processed`, `totalCompleted`,
/// `totalFailed` and `totalRetried` count every finish since the queue began, whatever was trimmed.
public struct JobCounts: Sendable, Equatable, Codable {
    public var waiting: Int
    public var active: Int
    public var delayed: Int
    /// Completed jobs still kept.
    public var completed: Int
    /// Dead jobs still kept.
    public var failed: Int
    /// Jobs finished for good since the queue began: `totalCompleted + totalFailed`.
    public var processed: Int
    /// Jobs completed since the queue began.
    public var totalCompleted: Int
    /// Jobs that failed for good (the dead set, stalls included) since the queue began.
    public var totalFailed: Int
    /// Failed tries that were scheduled to run again, since the queue began.
    public var totalRetried: Int

    public init(
        waiting: Int, active: Int, delayed: Int, completed: Int, failed: Int, totalCompleted: Int = 0, totalFailed: Int = 0,
        totalRetried: Int = 0
    ) {
        self.waiting = waiting
        self.active = active
        self.delayed = delayed
        self.completed = completed
        self.failed = failed
        self.processed = totalCompleted + totalFailed
        self.totalCompleted = totalCompleted
        self.totalFailed = totalFailed
        self.totalRetried = totalRetried
    }
}

/// What finishing a job did.
public enum FinishOutcome: Sendable, Equatable {
    /// Completed, or failed for good (moved to the dead set).
    case finished
    /// Failed, and scheduled to run again.
    case retrying
    /// The lock was no longer this worker's (it stalled and the job was re-queued): nothing changed.
    case lockLost
}

/// A Bull-like queue on Redis lists, sorted sets and Lua scripts.
///
/// ```swift
/// let queue = JobQueue(name: "email", redis: redis)
/// try await queue.add(name: "welcome", data: #"{"userId":"..."}"#, options: JobOptions(attempts: 3))
/// ```
public struct JobQueue: Sendable {
    /// The queue's name.
    public let name: String
    /// Every key of this queue starts with this prefix (`jq:{name}:`): the hash tag `{name}` puts
    /// all of them in one Redis Cluster slot.
    public let prefix: String
    let redis: RedisClient
    /// Milliseconds since 1970; injectable for tests.
    let now: @Sendable () -> Int64
    /// Finished jobs kept per state; older ones are deleted.
    public var keepCompleted = 1000
    public var keepFailed = 10_000

    /// A queue named `name` on `redis`.
    public init(name: String, redis: RedisClient, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.name = name
        self.prefix = "jq:{\(name)}:"
        self.redis = redis
        self.now = now
    }

    /// Adds a job; returns its id and whether it was new (false: an existing `jobID`).
    @discardableResult
    public func add(name jobName: String, data: String, options: JobOptions = JobOptions()) async throws -> (id: String, created: Bool) {
        let (backoffType, backoffDelay, backoffCap): (String, Int64, Int64) =
            switch options.backoff {
            case .fixed(let delay): ("fixed", delay.milliseconds, delay.milliseconds)
            case .exponential(let base, let cap): ("exponential", base.milliseconds, cap.milliseconds)
            }
        let addedAt = now()
        let delay = options.runAt.map { Int64($0.timeIntervalSince1970 * 1000) - addedAt } ?? options.delay.milliseconds
        let reply = try await redis.eval(
            JobScripts.add, keys: keys("id", "events", "delayed", "prioritized", "pc", "wait", "marker", "job:"),
            arguments: [
                options.jobID ?? "", jobName, data, String(max(0, delay)), String(max(0, options.priority)),
                String(max(1, options.attempts)), backoffType, String(backoffDelay), String(backoffCap), options.lifo ? "1" : "0",
                String(addedAt), String(max(0, options.timeout?.milliseconds ?? 0)),
            ])
        guard let values = reply.array, values.count == 2, let id = values[0].string else { throw JobQueueError.unexpectedReply }
        return (id, values[1].int == 1)
    }

    /// Takes the next ready job and locks it for `lock`; `nil` when none is ready (paused, empty, or
    /// only delayed jobs), with when the next delayed one is due.
    public func take(lock: Duration) async throws -> (job: ActiveJob?, nextDelayedAt: Int64?) {
        let token = UUID().uuidString
        let reply = try await redis.eval(
            JobScripts.moveToActive,
            keys: keys("delayed", "prioritized", "pc", "wait", "paused", "meta", "limiter", "marker", "active", "events", "job:", "lock:"),
            arguments: [token, String(lock.milliseconds), String(now())])
        guard let values = reply.array, let id = values.first?.string else { throw JobQueueError.unexpectedReply }
        if id.isEmpty {
            return (nil, values.count > 1 ? values[1].string.flatMap { Double($0) }.map { Int64($0) } : nil)
        }
        guard values.count == 5, let name = values[1].string, let data = values[2].string else { throw JobQueueError.unexpectedReply }
        let timeout = values[4].int ?? 0
        return (
            ActiveJob(
                id: id, name: name, data: data, attemptsMade: values[3].int ?? 0, token: token,
                timeout: timeout > 0 ? .milliseconds(Int64(timeout)) : nil),
            nil
        )
    }

    /// Extends the lock of a running job; false when it is no longer this worker's.
    public func extendLock(_ job: ActiveJob, by lock: Duration) async throws -> Bool {
        try await redis.eval(JobScripts.extendLock, keys: [prefix + "lock:" + job.id], arguments: [job.token, String(lock.milliseconds)]).int == 1
    }

    /// Marks a job completed with its result.
    @discardableResult
    public func complete(_ job: ActiveJob, result: String = "") async throws -> FinishOutcome {
        try await finish(job, outcome: "completed", value: result, retryDelay: nil)
    }

    /// Marks a try failed: retried after its backoff while attempts remain, else moved to the dead set.
    @discardableResult
    public func fail(_ job: ActiveJob, reason: String, retryDelay: Duration?) async throws -> FinishOutcome {
        try await finish(job, outcome: "failed", value: reason, retryDelay: retryDelay)
    }

    private func finish(_ job: ActiveJob, outcome: String, value: String, retryDelay: Duration?) async throws -> FinishOutcome {
        let keep = outcome == "completed" ? keepCompleted : keepFailed
        let reply = try await redis.eval(
            JobScripts.finish,
            keys: [prefix + "lock:" + job.id, prefix + "active", prefix + "job:" + job.id]
                + keys("events", "delayed", "marker", "completed", "failed", "totals", "job:"),
            arguments: [job.id, job.token, outcome, value, String(now()), String(retryDelay?.milliseconds ?? -1), String(keep)])
        switch reply.int {
        case -1: return .lockLost
        case 1: return .retrying
        default: return .finished
        }
    }

    /// Gives a running job back unfinished, at the front of the queue, as if it had not been taken
    /// (the try does not count): for a worker that stops before the job could finish. False when
    /// the lock was no longer this worker's (the job was re-queued meanwhile).
    @discardableResult
    public func release(_ job: ActiveJob) async throws -> Bool {
        try await redis.eval(
            JobScripts.release,
            keys: [prefix + "lock:" + job.id, prefix + "active", prefix + "job:" + job.id] + keys("wait", "marker", "events"),
            arguments: [job.id, job.token]
        ).int == 1
    }

    /// The backoff a job was added with, for computing its retry delay.
    public func backoff(of jobID: String) async throws -> JobBackoff {
        let values = try await redis.send("HMGET", prefix + "job:" + jobID, "backoffType", "backoffDelay", "backoffCap").array ?? []
        let delay = Duration.milliseconds(values.count > 1 ? values[1].int ?? 1000 : 1000)
        let cap = Duration.milliseconds(values.count > 2 ? values[2].int ?? 300_000 : 300_000)
        return values.first?.string == "fixed" ? .fixed(delay) : .exponential(base: delay, cap: cap)
    }

    /// Re-queues jobs whose worker vanished (lock expired), at most once per `interval` across all
    /// workers; jobs that stalled more than `maxStalled` times go to the dead set.
    public func sweepStalled(maxStalled: Int = 1, interval: Duration) async throws -> (requeued: [String], failed: [String]) {
        let reply = try await redis.eval(
            JobScripts.sweepStalled,
            keys: keys("stalled-check", "active", "lock:", "job:", "failed", "wait", "events", "marker", "totals"),
            arguments: [String(now()), String(maxStalled), String(interval.milliseconds)])
        let ids = (reply.array ?? []).compactMap(\.string)
        guard let separator = ids.firstIndex(of: "|") else { return ([], []) }
        return (Array(ids[..<separator]), Array(ids[ids.index(after: separator)...]))
    }

    /// Stops handing out jobs (running ones finish); `resume()` undoes it.
    public func pause() async throws { try await redis.send("SET", prefix + "paused", "1") }

    /// Hands out jobs again after `pause()`.
    public func resume() async throws {
        try await redis.send("DEL", prefix + "paused")
        try await redis.send("LPUSH", prefix + "marker", "1")
    }

    /// How many jobs are in each state.
    public func counts() async throws -> JobCounts {
        let replies = try await redis.pipeline([
            ["LLEN", prefix + "wait"], ["ZCARD", prefix + "prioritized"], ["LLEN", prefix + "active"],
            ["ZCARD", prefix + "delayed"], ["ZCARD", prefix + "completed"], ["ZCARD", prefix + "failed"],
            ["HMGET", prefix + "totals", "completed", "failed", "retried"],
        ])
        for case .error(let message) in replies { throw RedisError.server(message) }
        let sizes = replies.prefix(6).map { $0.int ?? 0 }
        let totals = (replies[6].array ?? []).map { $0.int ?? 0 } + [0, 0, 0]
        return JobCounts(
            waiting: sizes[0] + sizes[1], active: sizes[2], delayed: sizes[3], completed: sizes[4], failed: sizes[5],
            totalCompleted: totals[0], totalFailed: totals[1], totalRetried: totals[2])
    }

    /// This queue's keys with the given suffixes, for a script's KEYS (`"job:"` and `"lock:"` are
    /// prefixes the script appends job ids to).
    func keys(_ suffixes: String...) -> [String] {
        suffixes.map { prefix + $0 }
    }

    /// A job's stored fields (`state`, `attemptsMade`, `failedReason`, `result`, ...), or `nil`.
    public func job(_ id: String) async throws -> [String: String]? {
        let values = try await redis.send("HGETALL", prefix + "job:" + id).array ?? []
        guard !values.isEmpty else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: values.count - 1, by: 2) {
            if let key = values[index].string { fields[key] = values[index + 1].string }
        }
        return fields
    }

    /// Waits up to `timeout` for a wake-up that a job may be ready (a new or retried job, or
    /// resume). `blocking` must be a client of its own (`RedisClient.dedicated()`): a blocked
    /// connection holds up everything queued behind it.
    func waitForWork(timeout: Duration, on blocking: RedisClient) async {
        let seconds = max(0.01, Double(timeout.milliseconds) / 1000)
        _ = try? await blocking.send("BLPOP", prefix + "marker", String(format: "%.2f", seconds))
    }
}

/// Errors of the queue itself (Redis errors pass through as `RedisError`).
public enum JobQueueError: Error, Sendable {
    case unexpectedReply
}
