import VoiceFlowCommon
import VoiceFlowJobQueue

/// Settings of the jobs service: the shared ones, the worker's queues and concurrency, and the
/// system jobs' schedules and thresholds.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3006 | `/health`, `/ready`, `/metrics` |
/// | `JOBS_QUEUES` | default,system,email | queues this worker takes jobs from |
/// | `JOBS_CONCURRENCY` | 4 | jobs run at once per queue |
/// | `JOBS_LOCK_SECONDS` | 30 | a job's lock (renewed while it runs) |
/// | `JOBS_SCHEDULER` | true | whether this process adds the repeatable system jobs |
/// | `JOBS_STALLED_CHECK_SECONDS` | 30 | how often (across all workers) jobs of vanished workers are re-queued |
/// | `JOBS_MAX_STALLED` | 1 | stalls after which a job goes to the dead set instead |
/// | `JOBS_KEEP_COMPLETED` | 1000 | completed jobs kept per queue (older ones are deleted) |
/// | `JOBS_KEEP_FAILED` | 10000 | dead jobs kept per queue |
/// | `JOBS_METRICS_SECONDS` | 5 | how often the queue gauges on `/metrics` are read from Redis |
/// | `EMAIL_RATE_LIMIT_PER_MINUTE` | 60 | emails sent per minute across all workers (0: no limit) |
/// | `JOBS_TEST_JOBS` | false | registers `crash` (exits the process), for kill tests; refused in production |
/// | `ARCHIVE_MESSAGES_AFTER_DAYS` | 365 | messages older than this move to `messages_archive` (0: never) |
/// | `ARCHIVE_MESSAGES_CRON` | 15 3 * * * | when |
/// | `INACTIVE_ROOM_DAYS` | 30 | rooms without activity this long become inactive (0: never) |
/// | `INACTIVE_ROOMS_CRON` | 30 3 * * * | when |
/// | `PURGE_TOKENS_CRON` | 0 * * * * | when expired refresh tokens are deleted |
/// | `BACKUP_DIR` | (unset: no scheduled backups) | where `pg_dump` backups go |
/// | `BACKUP_CRON` | 0 2 * * * | when |
/// | `BACKUP_KEEP` | 7 | backups kept (the oldest are deleted) |
public struct JobsConfiguration: Sendable {
    public var service: ServiceConfiguration
    public var queues: [String]
    public var concurrency: Int
    public var lockDuration: Duration
    public var runsScheduler: Bool
    public var stalledCheckInterval: Duration
    public var maxStalled: Int
    public var keepCompleted: Int
    public var keepFailed: Int
    /// How often the queue gauges of `/metrics` are refreshed from Redis.
    public var metricsInterval: Duration
    public var testJobs: Bool
    public var emailsPerMinute: Int
    /// Outgoing email; `nil` when `SMTP_HOST` is unset.
    public var smtp: SMTPConfiguration?
    public var archiveAfterDays: Int
    public var archiveSchedule: CronExpression
    public var inactiveRoomDays: Int
    public var inactiveRoomsSchedule: CronExpression
    public var purgeTokensSchedule: CronExpression
    public var backupDirectory: String?
    public var backupSchedule: CronExpression
    public var backupsKept: Int

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        service = try ServiceConfiguration(environment: environment, defaultPort: 3006)
        queues = environment.list("JOBS_QUEUES", default: ["default", "system", PlatformJobs.emailQueue])
        concurrency = try environment.int("JOBS_CONCURRENCY", default: 4, in: 1...256)
        lockDuration = .seconds(try environment.int("JOBS_LOCK_SECONDS", default: 30, in: 1...3600))
        runsScheduler = try environment.bool("JOBS_SCHEDULER", default: true)
        stalledCheckInterval = .seconds(try environment.int("JOBS_STALLED_CHECK_SECONDS", default: 30, in: 1...3600))
        maxStalled = try environment.int("JOBS_MAX_STALLED", default: 1, in: 0...1000)
        keepCompleted = try environment.int("JOBS_KEEP_COMPLETED", default: 1000, in: 0...10_000_000)
        keepFailed = try environment.int("JOBS_KEEP_FAILED", default: 10_000, in: 0...10_000_000)
        metricsInterval = .seconds(try environment.int("JOBS_METRICS_SECONDS", default: 5, in: 1...3600))
        testJobs = try environment.bool("JOBS_TEST_JOBS", default: false)
        emailsPerMinute = try environment.int("EMAIL_RATE_LIMIT_PER_MINUTE", default: 60, in: 0...1_000_000)
        smtp = try SMTPConfiguration(environment: environment)
        if testJobs && service.mode == .production {
            throw ConfigurationError.invalidValue(key: "JOBS_TEST_JOBS", reason: "test jobs cannot run in production")
        }
        archiveAfterDays = try environment.int("ARCHIVE_MESSAGES_AFTER_DAYS", default: 365, in: 0...36_500)
        archiveSchedule = try Self.cron(environment, "ARCHIVE_MESSAGES_CRON", default: "15 3 * * *")
        inactiveRoomDays = try environment.int("INACTIVE_ROOM_DAYS", default: 30, in: 0...36_500)
        inactiveRoomsSchedule = try Self.cron(environment, "INACTIVE_ROOMS_CRON", default: "30 3 * * *")
        purgeTokensSchedule = try Self.cron(environment, "PURGE_TOKENS_CRON", default: "0 * * * *")
        backupDirectory = environment.string("BACKUP_DIR").flatMap { $0.isEmpty ? nil : $0 }
        backupSchedule = try Self.cron(environment, "BACKUP_CRON", default: "0 2 * * *")
        backupsKept = try environment.int("BACKUP_KEEP", default: 7, in: 1...10_000)
    }

    private static func cron(_ environment: EnvironmentReader, _ key: String, default value: String) throws -> CronExpression {
        do {
            return try CronExpression(environment.string(key, default: value))
        } catch {
            throw ConfigurationError.invalidValue(key: key, reason: error.description)
        }
    }
}
