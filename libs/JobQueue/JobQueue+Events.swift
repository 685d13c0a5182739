import VoiceFlowRedis

/// One entry of a queue's events stream (`jq:{name}:events`, the newest 10,000 or so).
public struct JobEvent: Sendable, Equatable {
    /// The stream entry id (`<ms>-<n>`): pass the last one seen to `events(after:)` for the next.
    public var id: String
    /// `waiting`, `delayed`, `active`, `progress`, `completed`, `retrying`, `failed`, `stalled` or
    /// `released` (given back unfinished by a stopping worker).
    public var event: String
    public var jobID: String
    /// The rest of the entry: `name`, `result`, `reason`, `progress`, `until`, as the event has them.
    public var fields: [String: String]
}

/// A queue-wide limit on how many jobs start per window, shared by every worker.
public struct JobRateLimit: Sendable, Equatable {
    public var max: Int
    public var window: Duration

    /// The window in whole milliseconds.
    public var windowMilliseconds: Int64 { window.milliseconds }

    public init(max: Int, per window: Duration) {
        self.max = max
        self.window = window
    }
}

/// Progress, events and the global rate limit.
extension JobQueue {
    /// Records a running job's progress (any text, e.g. a percentage or JSON) and publishes a
    /// `progress` event; false when the lock is no longer this worker's.
    @discardableResult
    public func updateProgress(_ job: ActiveJob, _ progress: String) async throws -> Bool {
        try await redis.eval(
            JobScripts.progress, keys: [prefix + "lock:" + job.id, prefix + "job:" + job.id, prefix + "events"],
            arguments: [job.id, job.token, progress]
        ).int == 1
    }

    /// Events after the entry `after` (exclusive; "0" for the oldest kept), oldest first.
    public func events(after: String = "0", limit: Int = 100) async throws -> [JobEvent] {
        let start = after == "0" ? "-" : "(" + after
        let entries = try await redis.send("XRANGE", prefix + "events", start, "+", "COUNT", String(max(1, limit))).array ?? []
        return Self.decodeEvents(entries)
    }

    /// Events after the entry `after`, oldest first, waiting up to `timeout` (at most a few
    /// seconds, under the client's command timeout) for the first one when there are none yet;
    /// empty when none came. `blocking` must be a client of its own (`RedisClient.dedicated()`).
    public func waitForEvents(after: String = "0", limit: Int = 1000, timeout: Duration, on blocking: RedisClient) async throws
        -> [JobEvent]
    {
        let reply = try await blocking.send(
            "XREAD", "COUNT", String(max(1, limit)), "BLOCK", String(max(1, timeout.milliseconds)), "STREAMS", prefix + "events",
            after == "0" ? "0-0" : after)
        // [[key, entries]] or nil when the wait ran out.
        guard let streams = reply.array, let stream = streams.first?.array, stream.count == 2 else { return [] }
        return Self.decodeEvents(stream[1].array ?? [])
    }

    /// Waits until the events stream records an event after `after` that `matches` (for instance
    /// a job's `completed` or `failed`), and returns it; throws `CancellationError` if the task
    /// is cancelled first. `blocking` must be a client of its own (`RedisClient.dedicated()`).
    public func waitForEvent(after: String = "0", on blocking: RedisClient, where matches: (JobEvent) -> Bool) async throws
        -> JobEvent
    {
        var last = after
        while true {
            try Task.checkCancellation()
            for event in try await waitForEvents(after: last, timeout: .seconds(1), on: blocking) {
                if matches(event) { return event }
                last = event.id
            }
        }
    }

    private static func decodeEvents(_ entries: [RESPValue]) -> [JobEvent] {
        entries.compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let values = parts[1].array else { return nil }
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: values.count - 1, by: 2) {
                if let key = values[index].string { fields[key] = values[index + 1].string ?? "" }
            }
            guard let event = fields.removeValue(forKey: "event"), let jobID = fields.removeValue(forKey: "jobId") else { return nil }
            return JobEvent(id: id, event: event, jobID: jobID, fields: fields)
        }
    }

    /// Limits the whole queue (every worker, every process) to `limit.max` job starts per window;
    /// `nil` removes the limit. Jobs over the limit wait in the queue, none is dropped.
    public func setRateLimit(_ limit: JobRateLimit?) async throws {
        if let limit {
            try await redis.send(
                "HSET", prefix + "meta", "rateMax", String(max(1, limit.max)), "rateWindow", String(max(1, limit.window.milliseconds)))
        } else {
            try await redis.send("HDEL", prefix + "meta", "rateMax", "rateWindow")
            try await redis.send("LPUSH", prefix + "marker", "1")
        }
    }

    /// The queue's rate limit, if any.
    public func rateLimit() async throws -> JobRateLimit? {
        let values = try await redis.send("HMGET", prefix + "meta", "rateMax", "rateWindow").array ?? []
        guard values.count == 2, let max = values[0].int, let window = values[1].int else { return nil }
        return JobRateLimit(max: max, per: .milliseconds(Int64(window)))
    }
}
