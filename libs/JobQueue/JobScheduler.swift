import Foundation
import Logging
import ServiceLifecycle
import VoiceFlowRedis

/// When a repeatable job fires.
public enum RepeatSchedule: Sendable, Equatable {
    /// Every `interval`, on multiples of it since 1970 (so every process agrees on the ticks).
    case every(Duration)
    /// In each minute the cron expression matches (UTC).
    case cron(CronExpression)

    /// The tick that `now` (ms since 1970) falls in, if the schedule fires in it.
    func tick(at now: Int64) -> Int64? {
        switch self {
        case .every(let interval):
            let milliseconds = max(1, interval.milliseconds)
            return now / milliseconds * milliseconds
        case .cron(let expression):
            let minute = now / 60_000 * 60_000
            return expression.matches(Date(timeIntervalSince1970: Double(minute) / 1000)) ? minute : nil
        }
    }
}

/// A job added to a queue on a schedule.
public struct RepeatableJob: Sendable {
    public var queue: String
    /// The job name (its handler) and the key of the schedule.
    public var name: String
    public var data: String
    public var schedule: RepeatSchedule
    public var options: JobOptions

    public init(queue: String, name: String, data: String = "{}", schedule: RepeatSchedule, options: JobOptions = JobOptions()) {
        self.queue = queue
        self.name = name
        self.data = data
        self.schedule = schedule
        self.options = options
    }
}

/// Adds repeatable jobs at their ticks, exactly once per tick however many schedulers run: a tick
/// is claimed with an atomic compare-and-set on Redis before the job is added (with the tick in its
/// `jobId`, so even a repeated add would be ignored). A tick that passes while no scheduler runs is
/// skipped, as cron does. Run it as a `Service`.
public struct JobScheduler: Service {
    let redis: RedisClient
    let jobs: [RepeatableJob]
    let logger: Logger
    let now: @Sendable () -> Int64
    /// How often the clock is checked.
    let resolution: Duration

    static let claimScript = RedisScript(
        """
        local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
        local tick = tonumber(ARGV[1])
        if tick > last then
          redis.call('SET', KEYS[1], ARGV[1])
          return 1
        end
        return 0
        """)

    public init(
        redis: RedisClient, jobs: [RepeatableJob], logger: Logger, resolution: Duration = .seconds(1),
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.redis = redis
        self.jobs = jobs
        self.logger = logger
        self.resolution = resolution
        self.now = now
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runDue()
                try? await Task.sleep(for: resolution)
            }
        }
    }

    /// Adds every job whose current tick nobody claimed yet; returns the names added.
    @discardableResult
    public func runDue() async -> [String] {
        var added: [String] = []
        let now = self.now()
        for job in jobs {
            guard let tick = job.schedule.tick(at: now) else { continue }
            let queue = JobQueue(name: job.queue, redis: redis, now: self.now)
            do {
                let claimed = try await redis.eval(Self.claimScript, keys: [queue.prefix + "repeat:" + job.name], arguments: [String(tick)])
                guard claimed.int == 1 else { continue }
                var options = job.options
                options.jobID = "repeat:\(job.name):\(tick)"
                try await queue.add(name: job.name, data: job.data, options: options)
                added.append(job.name)
                logger.debug("Repeatable job added", metadata: ["job.name": "\(job.name)", "queue": "\(job.queue)"])
            } catch {
                logger.warning("Repeatable job not added", metadata: ["job.name": "\(job.name)", "error.type": "\(type(of: error))"])
            }
        }
        return added
    }
}
