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

/// A rate limiter shared by every instance of every service: GCRA in one Lua script on Redis.
///
/// The script reads Redis' own clock, so instances need no clock agreement, and stores one key per
/// (rule, subject) that expires on its own. Subjects are hashed: no e-mail addresses or IPs in Redis.
/// When Redis is unreachable the limiter lets requests through and logs a warning: the API stays
/// available during a Redis outage, at the cost of not limiting for that time.
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
        let periodMilliseconds = rule.period.components.seconds * 1000 + rule.period.components.attoseconds / 1_000_000_000_000_000
        let interval = max(1, Int(periodMilliseconds) / rule.limit)
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

    static func key(rule: RateLimitRule, subject: String) -> String {
        let digest = SHA256.hash(data: Data(subject.lowercased().utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return "vf:rl:\(rule.name):\(digest)"
    }
}
