import VoiceFlowRedis

/// The queue's state moves, each one atomic Lua script. Every key of a queue shares the hash tag
/// `{name}` (`jq:{name}:...`), so a queue lives on one Redis Cluster slot. Times are milliseconds
/// given by the caller (an injectable clock), never read from Redis.
enum JobScripts {
    /// ARGV: prefix, jobId ("" = next id), name, data, delayMs, priority, attempts, backoffType,
    /// backoffDelayMs, backoffCapMs, lifo (1/0), now, timeoutMs (0 = none).
    /// Returns {id, created (1) or deduplicated (0)}.
    static let add = RedisScript(
        """
        local prefix = ARGV[1]
        local function emit(...)
          redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', ...)
        end
        local id = ARGV[2]
        if id == '' then id = tostring(redis.call('INCR', prefix .. 'id')) end
        local jobKey = prefix .. 'job:' .. id
        if redis.call('EXISTS', jobKey) == 1 then return {id, 0} end
        local delay = tonumber(ARGV[5])
        local priority = tonumber(ARGV[6])
        local now = tonumber(ARGV[12])
        redis.call('HSET', jobKey, 'name', ARGV[3], 'data', ARGV[4], 'priority', priority, 'attempts', ARGV[7],
          'backoffType', ARGV[8], 'backoffDelay', ARGV[9], 'backoffCap', ARGV[10], 'lifo', ARGV[11],
          'attemptsMade', 0, 'attemptsStarted', 0, 'stalled', 0, 'timeout', ARGV[13], 'createdAt', now)
        if delay > 0 then
          redis.call('ZADD', prefix .. 'delayed', now + delay, id)
          redis.call('HSET', jobKey, 'state', 'delayed')
          emit('event', 'delayed', 'jobId', id, 'name', ARGV[3], 'until', now + delay)
        else
          emit('event', 'waiting', 'jobId', id, 'name', ARGV[3])
          redis.call('HSET', jobKey, 'state', 'waiting')
          if priority > 0 then
            redis.call('ZADD', prefix .. 'prioritized', priority * 4294967296 + redis.call('INCR', prefix .. 'pc'), id)
          elseif ARGV[11] == '1' then
            redis.call('RPUSH', prefix .. 'wait', id)
          else
            redis.call('LPUSH', prefix .. 'wait', id)
          end
        end
        redis.call('LPUSH', prefix .. 'marker', '1')
        redis.call('LTRIM', prefix .. 'marker', 0, 0)
        return {id, 1}
        """)

    /// ARGV: prefix, token, lockMs, now. Promotes due delayed jobs, then (unless paused or over the
    /// queue's rate limit) takes the next job (prioritized first, then the wait list), locks it and
    /// marks it active. Returns {id, name, data, attemptsMade, timeoutMs} or {"", when to look again
    /// (the next delayed job, or the end of the rate-limit window) or ""} when nothing is ready.
    static let moveToActive = RedisScript(
        """
        local prefix = ARGV[1]
        local now = tonumber(ARGV[4])
        local due = redis.call('ZRANGEBYSCORE', prefix .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)
        for _, id in ipairs(due) do
          redis.call('ZREM', prefix .. 'delayed', id)
          local jobKey = prefix .. 'job:' .. id
          local priority = tonumber(redis.call('HGET', jobKey, 'priority') or '0')
          if priority > 0 then
            redis.call('ZADD', prefix .. 'prioritized', priority * 4294967296 + redis.call('INCR', prefix .. 'pc'), id)
          elseif redis.call('HGET', jobKey, 'lifo') == '1' then
            redis.call('RPUSH', prefix .. 'wait', id)
          else
            redis.call('LPUSH', prefix .. 'wait', id)
          end
          redis.call('HSET', jobKey, 'state', 'waiting')
        end
        local function nextDelayed()
          local nextJob = redis.call('ZRANGE', prefix .. 'delayed', 0, 0, 'WITHSCORES')
          if #nextJob == 0 then return '' end
          return nextJob[2]
        end
        if redis.call('EXISTS', prefix .. 'paused') == 1 then return {'', nextDelayed()} end
        local limiter = prefix .. 'limiter'
        local limit = redis.call('HMGET', prefix .. 'meta', 'rateMax', 'rateWindow')
        local rateMax = tonumber(limit[1] or '0')
        if rateMax > 0 then
          local used = tonumber(redis.call('GET', limiter) or '0')
          if used >= rateMax then
            local ttl = redis.call('PTTL', limiter)
            if ttl > 0 then return {'', tostring(now + ttl)} end
            redis.call('DEL', limiter)
          end
        end
        local id
        local top = redis.call('ZPOPMIN', prefix .. 'prioritized')
        if #top > 0 then id = top[1] else id = redis.call('RPOP', prefix .. 'wait') end
        if not id then return {'', nextDelayed()} end
        -- More work left: pass the wake-up on, so idle workers elsewhere take it too.
        if redis.call('LLEN', prefix .. 'wait') > 0 or redis.call('ZCARD', prefix .. 'prioritized') > 0 then
          redis.call('LPUSH', prefix .. 'marker', '1')
          redis.call('LTRIM', prefix .. 'marker', 0, 0)
        end
        if rateMax > 0 and redis.call('INCR', limiter) == 1 then
          redis.call('PEXPIRE', limiter, tonumber(limit[2] or '1000'))
        end
        local jobKey = prefix .. 'job:' .. id
        redis.call('LPUSH', prefix .. 'active', id)
        redis.call('SET', prefix .. 'lock:' .. id, ARGV[2], 'PX', tonumber(ARGV[3]))
        redis.call('HSET', jobKey, 'state', 'active', 'processedAt', now)
        redis.call('HINCRBY', jobKey, 'attemptsStarted', 1)
        local fields = redis.call('HMGET', jobKey, 'name', 'data', 'attemptsMade', 'timeout')
        redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', 'event', 'active', 'jobId', id, 'name', fields[1])
        return {id, fields[1], fields[2], fields[3], fields[4] or '0'}
        """)

    /// ARGV: prefix, id, token, lockMs. 1 when the lock was still ours and is extended, else 0.
    static let extendLock = RedisScript(
        """
        local lock = ARGV[1] .. 'lock:' .. ARGV[2]
        if redis.call('GET', lock) == ARGV[3] then
          redis.call('PEXPIRE', lock, tonumber(ARGV[4]))
          return 1
        end
        return 0
        """)

    /// ARGV: prefix, id, token, outcome ('completed' | 'failed'), value (result or reason), now,
    /// retryDelayMs (-1 = no retry), keep (how many finished jobs of this kind to retain).
    /// Returns -1 when the lock is not ours (a stale worker), 1 when the job will be retried,
    /// 0 when it finished (completed, or failed for good).
    static let finish = RedisScript(
        """
        local prefix = ARGV[1]
        local function emit(...)
          redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', ...)
        end
        local id = ARGV[2]
        local lock = prefix .. 'lock:' .. id
        if redis.call('GET', lock) ~= ARGV[3] then return -1 end
        redis.call('DEL', lock)
        redis.call('LREM', prefix .. 'active', -1, id)
        local jobKey = prefix .. 'job:' .. id
        local now = tonumber(ARGV[6])
        local made = redis.call('HINCRBY', jobKey, 'attemptsMade', 1)
        local set
        if ARGV[4] == 'completed' then
          redis.call('HSET', jobKey, 'state', 'completed', 'result', ARGV[5], 'finishedAt', now)
          emit('event', 'completed', 'jobId', id, 'result', ARGV[5])
          set = prefix .. 'completed'
        else
          local attempts = tonumber(redis.call('HGET', jobKey, 'attempts') or '1')
          local retryDelay = tonumber(ARGV[7])
          if made < attempts and retryDelay >= 0 then
            redis.call('HSET', jobKey, 'state', 'delayed', 'failedReason', ARGV[5])
            redis.call('ZADD', prefix .. 'delayed', now + retryDelay, id)
            redis.call('LPUSH', prefix .. 'marker', '1')
            redis.call('LTRIM', prefix .. 'marker', 0, 0)
            emit('event', 'retrying', 'jobId', id, 'reason', ARGV[5], 'until', now + retryDelay)
            return 1
          end
          redis.call('HSET', jobKey, 'state', 'failed', 'failedReason', ARGV[5], 'finishedAt', now)
          emit('event', 'failed', 'jobId', id, 'reason', ARGV[5])
          set = prefix .. 'failed'
        end
        redis.call('ZADD', set, now, id)
        local keep = tonumber(ARGV[8])
        local excess = redis.call('ZCARD', set) - keep
        if excess > 0 then
          local old = redis.call('ZPOPMIN', set, excess)
          for i = 1, #old, 2 do redis.call('DEL', prefix .. 'job:' .. old[i]) end
        end
        return 0
        """)

    /// ARGV: prefix, now, maxStalled, intervalMs. At most once per interval across all workers:
    /// active jobs whose lock expired go back to the front of the queue, or to the failed set after
    /// more than `maxStalled` stalls. Returns {requeued ids..., '|', failed ids...}; {} when another
    /// worker already swept in this interval.
    static let sweepStalled = RedisScript(
        """
        local prefix = ARGV[1]
        if not redis.call('SET', prefix .. 'stalled-check', '1', 'PX', tonumber(ARGV[4]), 'NX') then return {} end
        local requeued, failed = {}, {}
        for _, id in ipairs(redis.call('LRANGE', prefix .. 'active', 0, -1)) do
          if redis.call('EXISTS', prefix .. 'lock:' .. id) == 0 then
            redis.call('LREM', prefix .. 'active', 1, id)
            local jobKey = prefix .. 'job:' .. id
            local stalled = redis.call('HINCRBY', jobKey, 'stalled', 1)
            if stalled > tonumber(ARGV[3]) then
              redis.call('HSET', jobKey, 'state', 'failed', 'failedReason', 'job stalled too many times', 'finishedAt', ARGV[2])
              redis.call('ZADD', prefix .. 'failed', tonumber(ARGV[2]), id)
              table.insert(failed, id)
              redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', 'event', 'failed', 'jobId', id,
                'reason', 'job stalled too many times')
            else
              redis.call('HSET', jobKey, 'state', 'waiting')
              redis.call('RPUSH', prefix .. 'wait', id)
              table.insert(requeued, id)
              redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', 'event', 'stalled', 'jobId', id)
            end
          end
        end
        if #requeued > 0 then
          redis.call('LPUSH', prefix .. 'marker', '1')
          redis.call('LTRIM', prefix .. 'marker', 0, 0)
        end
        local result = requeued
        table.insert(result, '|')
        for _, id in ipairs(failed) do table.insert(result, id) end
        return result
        """)

    /// ARGV: prefix, id, token, progress. 1 when the lock was ours and the progress is stored (and
    /// published as a `progress` event), else 0.
    static let progress = RedisScript(
        """
        local prefix = ARGV[1]
        if redis.call('GET', prefix .. 'lock:' .. ARGV[2]) ~= ARGV[3] then return 0 end
        redis.call('HSET', prefix .. 'job:' .. ARGV[2], 'progress', ARGV[4])
        redis.call('XADD', prefix .. 'events', 'MAXLEN', '~', 10000, '*', 'event', 'progress', 'jobId', ARGV[2], 'progress', ARGV[4])
        return 1
        """)
}
