import Crypto
import Foundation
import Logging
import VoiceFlowRedis

/// A limit: at most `limit` events per `period` for one key, with bursts up to `limit`.
public struct RateLimitRule: Sendable, Equatable {
    /// Names the limit in Redis keys and logs (`login-ip`).
    public var name: String
    /// Events allowed per period.
    public var limit: Int
    /// The period.
    public var period: Duration

    /// Creates a rule.
    public init(name: String, limit: Int, period: Duration) {
        self.name = name
        self.limit = max(1, limit)
        self.period = period
    }
}

extension RateLimitRule {
    /// A rule whose limit an operator sets with `variable` (1–1,000,000; `defaultLimit` when unset).
    public init(
        name: String, variable: String, default defaultLimit: Int, period: Duration, environment: EnvironmentReader
    ) throws(ConfigurationError) {
        self.init(name: name, limit: try environment.int(variable, default: defaultLimit, in: 1...1_000_000), period: period)
    }
}

/// A limit on *failures* (wrong passwords), not attempts: `freeFailures` are free, then each further
/// failure makes the subject wait before its next attempt, `firstDelay` after the first one over,
/// doubling up to `maximumDelay`. A subject's failures are forgotten `memory` after its last one, or
/// when ``RateLimiter/clearFailures(_:subject:)`` is called (a success). This slows guessing down
/// ever more, but never locks anyone out for longer than `maximumDelay`.
public struct FailureBackoffRule: Sendable, Equatable {
    /// Names the rule in Redis keys and logs (`login-failures-account`).
    public var name: String
    /// Failures before any wait.
    public var freeFailures: Int
    /// The wait after the first failure over the free ones.
    public var firstDelay: Duration
    /// The longest wait.
    public var maximumDelay: Duration
    /// How long failures are remembered after the last one.
    public var memory: Duration

    /// Creates a rule.
    public init(name: String, freeFailures: Int, firstDelay: Duration, maximumDelay: Duration, memory: Duration) {
        self.name = name
        self.freeFailures = max(0, freeFailures)
        self.firstDelay = firstDelay
        self.maximumDelay = max(firstDelay, maximumDelay)
        self.memory = memory
    }
}

/// One subject to check against a ``FailureBackoffRule``, optionally waived by a pass
/// (``RateLimiter/grantPass(_:subject:lifetime:)``): a subject holding it is not held back by this rule.
public struct FailureCheck: Sendable {
    /// The rule.
    public var rule: FailureBackoffRule
    /// Whose failures are counted.
    public var subject: String
    /// The pass that waives the rule: its name and subject.
    public var waiver: (name: String, subject: String)?

    /// Creates a check.
    public init(_ rule: FailureBackoffRule, subject: String, waivedBy waiver: (name: String, subject: String)? = nil) {
        self.rule = rule
        self.subject = subject
        self.waiver = waiver
    }
}

/// A rate limiter shared by every instance of every service: GCRA in one Lua script on Redis.
///
/// The script reads Redis' own clock, so instances need no clock agreement, and stores one key per
/// (rule, subject) that expires on its own. Subjects are hashed: no e-mail addresses or IPs in Redis.
/// When Redis is unreachable the limiter lets requests through and logs a warning: the API stays
/// available during a Redis outage, at the cost of not limiting for that time.
///
/// Besides these rate limits it keeps failure back-offs (``FailureBackoffRule``): ``checkFailures(_:)``
/// before an attempt, ``recordFailure(_:)`` after a failed one, ``clearFailures(_:subject:)`` and
/// ``grantPass(_:subject:lifetime:)`` after a success. Every script names all the keys it touches in
/// `KEYS`.
///
/// ```swift
/// try await limiter.check(RateLimitRule(name: "login-ip", limit: 30, period: .seconds(60)), subject: ip)
/// ```
public struct RateLimiter: Sendable {
    private let redis: RedisClient
    private let enabled: Bool
    private let logger: Logger

    static let script = RedisScript(
        """
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if tat == nil or tat < now_ms then tat = now_ms end
        local new_tat = tat + interval
        local allow_at = new_tat - interval * burst
        if allow_at > now_ms then
          return {0, allow_at - now_ms}
        end
        redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now_ms)
        return {1, 0}
        """)

    /// Creates a limiter; `enabled: false` (`RATE_LIMITS_ENABLED=false`) allows everything.
    public init(redis: RedisClient, enabled: Bool, logger: Logger) {
        self.redis = redis
        self.enabled = enabled
        self.logger = logger
    }

    /// Counts one event for `subject` under `rule`; throws a 429 ``APIError`` with `Retry-After` when over.
    public func check(_ rule: RateLimitRule, subject: String) async throws(APIError) {
        guard enabled else { return }
        let interval = max(1, rule.period.wholeMilliseconds / Int64(rule.limit))
        let reply: RESPValue
        do {
            reply = try await redis.eval(
                Self.script, keys: [Self.key(rule: rule, subject: subject)],
                arguments: [String(interval), String(rule.limit)])
        } catch {
            logger.warning("Rate limiter unavailable, allowing request", metadata: ["rate_limit.rule": "\(rule.name)"])
            return
        }
        guard let values = reply.array, values.count == 2, let allowed = values[0].int, let waitMilliseconds = values[1].int
        else {
            logger.warning("Rate limiter gave an unexpected reply", metadata: ["rate_limit.rule": "\(rule.name)"])
            return
        }
        if allowed == 0 {
            throw APIError.rateLimited(retryAfterSeconds: (waitMilliseconds + 999) / 1000)
        }
    }

    /// Waits in milliseconds: the longest `until` among the back-off hashes `KEYS[1...n]`, skipping
    /// hash `i` when `ARGV[i + 1]` is `1` and the pass `KEYS[n + i]` exists (`ARGV[1]` is `n`).
    static let failureCheckScript = RedisScript(
        """
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        local n = tonumber(ARGV[1])
        local wait = 0
        for i = 1, n do
          local waived = ARGV[i + 1] == '1' and redis.call('EXISTS', KEYS[n + i]) == 1
          if not waived then
            local until_ms = tonumber(redis.call('HGET', KEYS[i], 'until'))
            if until_ms ~= nil and until_ms - now_ms > wait then wait = until_ms - now_ms end
          end
        end
        return wait
        """)

    /// Counts a failure in each back-off hash `KEYS[i]`, with `ARGV[4i-3...4i]` its free failures,
    /// first and longest wait and memory (milliseconds); sets the hash's `until` once over the free ones.
    static let failureRecordScript = RedisScript(
        """
        local now = redis.call('TIME')
        local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        for i = 1, #KEYS do
          local free = tonumber(ARGV[4 * i - 3])
          local first = tonumber(ARGV[4 * i - 2])
          local longest = tonumber(ARGV[4 * i - 1])
          local ttl = tonumber(ARGV[4 * i])
          local failures = redis.call('HINCRBY', KEYS[i], 'n', 1)
          if failures > free then
            local delay = math.min(longest, first * 2 ^ math.min(failures - free - 1, 40))
            redis.call('HSET', KEYS[i], 'until', now_ms + delay)
            if delay > ttl then ttl = delay end
          end
          redis.call('PEXPIRE', KEYS[i], ttl)
        end
        return 1
        """)

    /// Throws a 429 ``APIError`` with `Retry-After` while any of `checks` is in its back-off wait.
    public func checkFailures(_ checks: [FailureCheck]) async throws(APIError) {
        guard enabled, !checks.isEmpty else { return }
        let keys = checks.map { Self.key(backoff: $0.rule, subject: $0.subject) }
            + checks.map { check in check.waiver.map { Self.key(pass: $0.name, subject: $0.subject) } ?? Self.key(backoff: check.rule, subject: check.subject) }
        let reply: RESPValue
        do {
            reply = try await redis.eval(
                Self.failureCheckScript, keys: keys, arguments: [String(checks.count)] + checks.map { $0.waiver == nil ? "0" : "1" })
        } catch {
            logger.warning("Rate limiter unavailable, allowing request", metadata: ["rate_limit.rule": "\(checks[0].rule.name)"])
            return
        }
        guard let waitMilliseconds = reply.int else {
            logger.warning("Rate limiter gave an unexpected reply", metadata: ["rate_limit.rule": "\(checks[0].rule.name)"])
            return
        }
        if waitMilliseconds > 0 {
            throw APIError.rateLimited(retryAfterSeconds: (waitMilliseconds + 999) / 1000)
        }
    }

    /// Counts one failure for each of `checks` (their waivers do not matter here).
    public func recordFailure(_ checks: [FailureCheck]) async {
        guard enabled, !checks.isEmpty else { return }
        let arguments = checks.flatMap { check in
            [Int64(check.rule.freeFailures), check.rule.firstDelay.wholeMilliseconds, check.rule.maximumDelay.wholeMilliseconds,
             max(1, check.rule.memory.wholeMilliseconds)].map(String.init)
        }
        do {
            _ = try await redis.eval(
                Self.failureRecordScript, keys: checks.map { Self.key(backoff: $0.rule, subject: $0.subject) }, arguments: arguments)
        } catch {
            logger.warning("Rate limiter unavailable, failure not counted", metadata: ["rate_limit.rule": "\(checks[0].rule.name)"])
        }
    }

    /// Forgets `subject`'s failures under `rule`.
    public func clearFailures(_ rule: FailureBackoffRule, subject: String) async {
        guard enabled else { return }
        do {
            _ = try await redis.send("DEL", Self.key(backoff: rule, subject: subject))
        } catch {
            logger.warning("Rate limiter unavailable, failures not cleared", metadata: ["rate_limit.rule": "\(rule.name)"])
        }
    }

    /// Gives `subject` the pass `name` for `lifetime` (a ``FailureCheck`` can be waived by it).
    public func grantPass(_ name: String, subject: String, lifetime: Duration) async {
        guard enabled else { return }
        do {
            _ = try await redis.send("SET", Self.key(pass: name, subject: subject), "1", "PX", String(max(1, lifetime.wholeMilliseconds)))
        } catch {
            logger.warning("Rate limiter unavailable, pass not granted", metadata: ["rate_limit.pass": "\(name)"])
        }
    }

    static func key(backoff rule: FailureBackoffRule, subject: String) -> String {
        "vf:rf:\(rule.name):\(digest(subject))"
    }

    static func key(pass name: String, subject: String) -> String {
        "vf:rp:\(name):\(digest(subject))"
    }

    static func key(rule: RateLimitRule, subject: String) -> String {
        "vf:rl:\(rule.name):\(digest(subject))"
    }

    /// Subjects are hashed: no e-mail addresses or IPs in Redis.
    static func digest(_ subject: String) -> String {
        SHA256.hash(data: Data(subject.lowercased().utf8)).prefix(12).lowercaseHex
    }
}
