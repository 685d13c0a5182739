import Foundation
import VoiceFlowRedis

/// A job in the dead set, as operators see it.
public struct FailedJob: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var reason: String
    public var attemptsMade: Int
    /// Milliseconds since 1970.
    public var failedAt: Int64
}

/// Operator actions: list and retry dead jobs, delete old finished ones.
extension JobQueue {
    /// Finished states that `clean` empties.
    public enum FinishedState: String, Sendable, CaseIterable {
        case completed, failed
    }

    /// KEYS: failed, wait, marker, job prefix. ARGV: one id, or "" for every dead job.
    static let retryScript = RedisScript(
        """
        local ids
        if ARGV[1] ~= '' then ids = {ARGV[1]} else ids = redis.call('ZRANGE', KEYS[1], 0, -1) end
        local count = 0
        for _, id in ipairs(ids) do
          if redis.call('ZREM', KEYS[1], id) == 1 then
            local jobKey = KEYS[4] .. id
            redis.call('HSET', jobKey, 'state', 'waiting', 'attemptsMade', 0, 'stalled', 0)
            redis.call('HDEL', jobKey, 'failedReason', 'finishedAt')
            redis.call('LPUSH', KEYS[2], id)
            count = count + 1
          end
        end
        if count > 0 then
          redis.call('LPUSH', KEYS[3], '1')
          redis.call('LTRIM', KEYS[3], 0, 0)
        end
        return count
        """)

    /// KEYS: the finished set (completed or failed), job prefix. ARGV: finished before (ms).
    static let cleanScript = RedisScript(
        """
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]), 'LIMIT', 0, 10000)
        for _, id in ipairs(ids) do
          redis.call('DEL', KEYS[2] .. id)
          redis.call('ZREM', KEYS[1], id)
        end
        return #ids
        """)

    /// The newest dead jobs, with why they failed.
    public func failedJobs(limit: Int = 100) async throws -> [FailedJob] {
        let ids = try await redis.send("ZREVRANGE", prefix + "failed", "0", String(max(0, limit - 1))).array?.compactMap(\.string) ?? []
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(
            ids.map { ["HMGET", prefix + "job:" + $0, "name", "failedReason", "attemptsMade", "finishedAt"] })
        return zip(ids, replies).map { id, reply in
            let fields = reply.array ?? []
            func field(_ index: Int) -> String? { index < fields.count ? fields[index].string : nil }
            return FailedJob(
                id: id, name: field(0) ?? "", reason: field(1) ?? "", attemptsMade: Int(field(2) ?? "") ?? 0,
                failedAt: Int64(field(3) ?? "") ?? 0)
        }
    }

    /// Moves dead jobs back to the wait list with fresh attempts: one (`id`) or all. Returns how many.
    @discardableResult
    public func retryFailed(id: String? = nil) async throws -> Int {
        try await redis.eval(Self.retryScript, keys: keys("failed", "wait", "marker", "job:"), arguments: [id ?? ""]).int ?? 0
    }

    /// Deletes finished jobs of `state` that finished more than `olderThan` ago (up to 10,000 per call).
    @discardableResult
    public func clean(_ state: FinishedState, olderThan age: Duration = .zero) async throws -> Int {
        let before = now() - age.milliseconds
        return try await redis.eval(Self.cleanScript, keys: keys(state.rawValue, "job:"), arguments: [String(before)]).int ?? 0
    }

    /// Whether the queue is paused.
    public func isPaused() async throws -> Bool {
        try await redis.send("EXISTS", prefix + "paused").int == 1
    }
}

extension JobQueue {
    /// Deletes a finished job (its record and its place in `completed` or `failed`).
    public func forget(_ id: String) async throws {
        _ = try await redis.pipeline([
            ["DEL", prefix + "job:" + id], ["ZREM", prefix + "completed", id], ["ZREM", prefix + "failed", id],
        ])
    }
}
