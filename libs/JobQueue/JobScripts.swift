import VoiceFlowRedis

/// The queue's state moves, each one atomic Lua script. Times are milliseconds given by the caller
/// (an injectable clock), never read from Redis.
///
/// Every key a script touches is passed in KEYS (the `keys:` of each call, in `JobQueue`). Keys
/// named by a job id that only the script learns (the job popped from the wait list, the jobs a
/// sweep or a trim visits) are built from a declared key prefix (`KEYS[n] .. id`, with
/// `jq:{name}:job:` and `jq:{name}:lock:`). Every key shares the hash tag `{name}`, so a queue's
/// scripts run on one Redis Cluster slot. `JobScriptKeysTests` checks both against redis-server.
enum JobScripts {
    /// KEYS: id, events, delayed, prioritized, pc, wait, marker, job prefix.
    /// ARGV: jobId ("" = next id), name, data, delayMs, priority, attempts, backoffType,
    /// backoffDelayMs, backoffCapMs, lifo (1/0), now, timeoutMs (0 = none).
    /// Returns {id, created (1) or deduplicated (0)}.
    static let add = RedisScript(
        """
        local function emit(...)
          redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', ...)
        end
        local id = ARGV[1]
        if id == '' then id = tostring(redis.call('INCR', KEYS[1])) end
        local jobKey = KEYS[8] .. id
        if redis.call('EXISTS', jobKey) == 1 then return {id, 0} end
        local delay = tonumber(ARGV[4])
        local priority = tonumber(ARGV[5])
        local now = tonumber(ARGV[11])
        redis.call('HSET', jobKey, 'name', ARGV[2], 'data', ARGV[3], 'priority', priority, 'attempts', ARGV[6],
          'backoffType', ARGV[7], 'backoffDelay', ARGV[8], 'backoffCap', ARGV[9], 'lifo', ARGV[10],
          'attemptsMade', 0, 'attemptsStarted', 0, 'stalled', 0, 'timeout', ARGV[12], 'createdAt', now)
        if delay > 0 then
          redis.call('ZADD', KEYS[3], now + delay, id)
          redis.call('HSET', jobKey, 'state', 'delayed')
          emit('event', 'delayed', 'jobId', id, 'name', ARGV[2], 'until', now + delay)
        else
          emit('event', 'waiting', 'jobId', id, 'name', ARGV[2])
          redis.call('HSET', jobKey, 'state', 'waiting')
          if priority > 0 then
            redis.call('ZADD', KEYS[4], priority * 4294967296 + redis.call('INCR', KEYS[5]), id)
          elseif ARGV[10] == '1' then
            redis.call('RPUSH', KEYS[6], id)
          else
            redis.call('LPUSH', KEYS[6], id)
          end
        end
        redis.call('LPUSH', KEYS[7], '1')
        redis.call('LTRIM', KEYS[7], 0, 0)
        return {id, 1}
        """)

    /// KEYS: delayed, prioritized, pc, wait, paused, meta, limiter, marker, active, events,
    /// job prefix, lock prefix. ARGV: token, lockMs, now.
    /// Promotes due delayed jobs, then (unless paused or over the queue's rate limit) takes the next
    /// job (prioritized first, then the wait list), locks it and marks it active. Returns {id, name,
    /// data, attemptsMade, timeoutMs} or {"", when to look again (the next delayed job, or the end
    /// of the rate-limit window) or ""} when nothing is ready.
    static let moveToActive = RedisScript(
        """
        local now = tonumber(ARGV[3])
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
        for _, id in ipairs(due) do
          redis.call('ZREM', KEYS[1], id)
          local jobKey = KEYS[11] .. id
          local priority = tonumber(redis.call('HGET', jobKey, 'priority') or '0')
          if priority > 0 then
            redis.call('ZADD', KEYS[2], priority * 4294967296 + redis.call('INCR', KEYS[3]), id)
          elseif redis.call('HGET', jobKey, 'lifo') == '1' then
            redis.call('RPUSH', KEYS[4], id)
          else
            redis.call('LPUSH', KEYS[4], id)
          end
          redis.call('HSET', jobKey, 'state', 'waiting')
        end
        local function nextDelayed()
          local nextJob = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
          if #nextJob == 0 then return '' end
          return nextJob[2]
        end
        if redis.call('EXISTS', KEYS[5]) == 1 then return {'', nextDelayed()} end
        local limiter = KEYS[7]
        local limit = redis.call('HMGET', KEYS[6], 'rateMax', 'rateWindow')
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
        local top = redis.call('ZPOPMIN', KEYS[2])
        if #top > 0 then id = top[1] else id = redis.call('RPOP', KEYS[4]) end
        if not id then return {'', nextDelayed()} end
        -- More work left: pass the wake-up on, so idle workers elsewhere take it too.
        if redis.call('LLEN', KEYS[4]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then
          redis.call('LPUSH', KEYS[8], '1')
          redis.call('LTRIM', KEYS[8], 0, 0)
        end
        if rateMax > 0 and redis.call('INCR', limiter) == 1 then
          redis.call('PEXPIRE', limiter, tonumber(limit[2] or '1000'))
        end
        local jobKey = KEYS[11] .. id
        redis.call('LPUSH', KEYS[9], id)
        redis.call('SET', KEYS[12] .. id, ARGV[1], 'PX', tonumber(ARGV[2]))
        redis.call('HSET', jobKey, 'state', 'active', 'processedAt', now)
        redis.call('HINCRBY', jobKey, 'attemptsStarted', 1)
        local fields = redis.call('HMGET', jobKey, 'name', 'data', 'attemptsMade', 'timeout')
        redis.call('XADD', KEYS[10], 'MAXLEN', '~', 10000, '*', 'event', 'active', 'jobId', id, 'name', fields[1])
        return {id, fields[1], fields[2], fields[3], fields[4] or '0'}
        """)

    /// KEYS: the job's lock. ARGV: token, lockMs. 1 when the lock was still ours and is extended, else 0.
    static let extendLock = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
          return 1
        end
        return 0
        """)

    /// KEYS: the job's lock, active, the job, events, delayed, marker, completed, failed, totals,
    /// job prefix. ARGV: id, token, outcome ('completed' | 'failed'), value (result or reason), now,
    /// retryDelayMs (-1 = no retry), keep (how many finished jobs of this kind to retain).
    /// Returns -1 when the lock is not ours (a stale worker), 1 when the job will be retried,
    /// 0 when it finished (completed, or failed for good). `totals` counts every finish for good
    /// (`completed`, `failed`) and every retry (`retried`) since the queue began, whatever the
    /// retention trims.
    static let finish = RedisScript(
        """
        local function emit(...)
          redis.call('XADD', KEYS[4], 'MAXLEN', '~', 10000, '*', ...)
        end
        local id = ARGV[1]
        if redis.call('GET', KEYS[1]) ~= ARGV[2] then return -1 end
        redis.call('DEL', KEYS[1])
        redis.call('LREM', KEYS[2], -1, id)
        local jobKey = KEYS[3]
        local now = tonumber(ARGV[5])
        local made = redis.call('HINCRBY', jobKey, 'attemptsMade', 1)
        local set
        if ARGV[3] == 'completed' then
          redis.call('HSET', jobKey, 'state', 'completed', 'result', ARGV[4], 'finishedAt', now)
          emit('event', 'completed', 'jobId', id, 'result', ARGV[4])
          redis.call('HINCRBY', KEYS[9], 'completed', 1)
          set = KEYS[7]
        else
          local attempts = tonumber(redis.call('HGET', jobKey, 'attempts') or '1')
          local retryDelay = tonumber(ARGV[6])
          if made < attempts and retryDelay >= 0 then
            redis.call('HSET', jobKey, 'state', 'delayed', 'failedReason', ARGV[4])
            redis.call('ZADD', KEYS[5], now + retryDelay, id)
            redis.call('LPUSH', KEYS[6], '1')
            redis.call('LTRIM', KEYS[6], 0, 0)
            emit('event', 'retrying', 'jobId', id, 'reason', ARGV[4], 'until', now + retryDelay)
            redis.call('HINCRBY', KEYS[9], 'retried', 1)
            return 1
          end
          redis.call('HSET', jobKey, 'state', 'failed', 'failedReason', ARGV[4], 'finishedAt', now)
          emit('event', 'failed', 'jobId', id, 'reason', ARGV[4])
          redis.call('HINCRBY', KEYS[9], 'failed', 1)
          set = KEYS[8]
        end
        redis.call('ZADD', set, now, id)
        local keep = tonumber(ARGV[7])
        local excess = redis.call('ZCARD', set) - keep
        if excess > 0 then
          local old = redis.call('ZPOPMIN', set, excess)
          for i = 1, #old, 2 do redis.call('DEL', KEYS[10] .. old[i]) end
        end
        return 0
        """)

    /// KEYS: the job's lock, active, the job, wait, marker, events. ARGV: id, token.
    /// Gives a running job back unfinished (its worker is stopping): with the lock still ours, it
    /// goes to the front of the queue as if never taken (its try does not count). Returns 1 when
    /// released, 0 when the lock was no longer ours.
    static let release = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
        redis.call('DEL', KEYS[1])
        if redis.call('LREM', KEYS[2], -1, ARGV[1]) == 0 then return 0 end
        redis.call('HSET', KEYS[3], 'state', 'waiting')
        redis.call('HINCRBY', KEYS[3], 'attemptsStarted', -1)
        redis.call('RPUSH', KEYS[4], ARGV[1])
        redis.call('LPUSH', KEYS[5], '1')
        redis.call('LTRIM', KEYS[5], 0, 0)
        redis.call('XADD', KEYS[6], 'MAXLEN', '~', 10000, '*', 'event', 'released', 'jobId', ARGV[1])
        return 1
        """)

    /// KEYS: stalled-check, active, lock prefix, job prefix, failed, wait, events, marker, totals.
    /// ARGV: now, maxStalled, intervalMs. At most once per interval across all workers: active jobs
    /// whose lock expired go back to the front of the queue, or to the failed set after more than
    /// `maxStalled` stalls. Returns {requeued ids..., '|', failed ids...}; {} when another worker
    /// already swept in this interval.
    static let sweepStalled = RedisScript(
        """
        if not redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[3]), 'NX') then return {} end
        local requeued, failed = {}, {}
        for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
          if redis.call('EXISTS', KEYS[3] .. id) == 0 then
            redis.call('LREM', KEYS[2], 1, id)
            local jobKey = KEYS[4] .. id
            local stalled = redis.call('HINCRBY', jobKey, 'stalled', 1)
            if stalled > tonumber(ARGV[2]) then
              redis.call('HSET', jobKey, 'state', 'failed', 'failedReason', 'job stalled too many times', 'finishedAt', ARGV[1])
              redis.call('ZADD', KEYS[5], tonumber(ARGV[1]), id)
              redis.call('HINCRBY', KEYS[9], 'failed', 1)
              table.insert(failed, id)
              redis.call('XADD', KEYS[7], 'MAXLEN', '~', 10000, '*', 'event', 'failed', 'jobId', id,
                'reason', 'job stalled too many times')
            else
              redis.call('HSET', jobKey, 'state', 'waiting')
              redis.call('RPUSH', KEYS[6], id)
              table.insert(requeued, id)
              redis.call('XADD', KEYS[7], 'MAXLEN', '~', 10000, '*', 'event', 'stalled', 'jobId', id)
            end
          end
        end
        if #requeued > 0 then
          redis.call('LPUSH', KEYS[8], '1')
          redis.call('LTRIM', KEYS[8], 0, 0)
        end
        local result = requeued
        table.insert(result, '|')
        for _, id in ipairs(failed) do table.insert(result, id) end
        return result
        """)

    /// KEYS: the job's lock, the job, events. ARGV: id, token, progress. 1 when the lock was ours
    /// and the progress is stored (and published as a `progress` event), else 0.
    static let progress = RedisScript(
        """
        if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[2], 'progress', ARGV[3])
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'event', 'progress', 'jobId', ARGV[1], 'progress', ARGV[3])
        return 1
        """)
}
