import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon
import VoiceFlowJobQueue

/// The jobs the platform runs for itself, by name.
///
/// | name | parameters | what |
/// |---|---|---|
/// | `noop` | `{"ms"?: N}` | nothing (sleeps N ms, at most 60 s): the readiness canary and the benchmark job |
/// | `purge-refresh-tokens` | `{}` | deletes refresh tokens past their expiry or revoked over a day ago (kept that long to spot reuse), in batches |
/// | `deactivate-idle-rooms` | `{"days"?: N}` | rooms without activity for N days become inactive (dormant: out of the public list until a member posts or someone joins) |
/// | `archive-messages` | `{"days"?: N}` | messages older than N days move to `messages_archive`, in batches |
/// | `backup-database` | `{}` | `pg_dump` into `BACKUP_DIR`, keeping the newest `BACKUP_KEEP` |
/// | `crash` | `{}` | exits the worker process (only with `JOBS_TEST_JOBS=true`): the poison job of kill tests |
enum SystemJobs {
    static let queue = "system"
    static let batchSize = 1000

    struct Noop: Codable, Sendable {
        var ms: Int?
    }

    struct Days: Codable, Sendable {
        var days: Int?
    }

    static func register(in handlers: inout JobHandlers, postgres: PostgresClient, configuration: JobsConfiguration, logger: Logger) {
        handlers.register("noop", parameters: Noop.self) { parameters in
            if let ms = parameters.ms, ms > 0 { try await Task.sleep(for: .milliseconds(min(ms, 60_000))) }
        }
        if let directory = configuration.backupDirectory {
            let backup = DatabaseBackup(
                database: configuration.service.database, directory: directory, keep: configuration.backupsKept, logger: logger)
            handlers.register("backup-database", parameters: Days.self) { _ in try await backup.backUp() }
        }
        if configuration.testJobs {
            handlers.register("crash", parameters: Noop.self) { _ in
                logger.critical("The crash test job ends this process")
                exit(70)
            }
        }
        handlers.register("purge-refresh-tokens", parameters: Days.self) { _ in
            let deleted = try await inBatches {
                try await postgres.query(
                    """
                    WITH gone AS (
                      DELETE FROM refresh_tokens WHERE id IN (
                        SELECT id FROM refresh_tokens
                        WHERE expires_at < now() OR revoked_at < now() - interval '1 day' LIMIT \(batchSize)
                      ) RETURNING 1
                    ) SELECT count(*)::int FROM gone
                    """, logger: logger)
            }
            logger.info("Expired refresh tokens purged", metadata: ["count": "\(deleted)"])
        }
        handlers.register("deactivate-idle-rooms", parameters: Days.self) { parameters in
            let days = parameters.days ?? configuration.inactiveRoomDays
            guard days > 0 else { return }
            let changed = try await inBatches {
                try await postgres.query(
                    """
                    WITH idle AS (
                      UPDATE rooms SET is_active = false WHERE id IN (
                        SELECT id FROM rooms WHERE is_active AND last_activity < now() - make_interval(days => \(Int32(days)))
                        LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                      ) RETURNING 1
                    ) SELECT count(*)::int FROM idle
                    """, logger: logger)
            }
            logger.info("Idle rooms deactivated", metadata: ["count": "\(changed)", "days": "\(days)"])
        }
        handlers.register("archive-messages", parameters: Days.self) { parameters in
            let days = parameters.days ?? configuration.archiveAfterDays
            guard days > 0 else { return }
            // Each batch is one statement: the rows leave `messages` and enter the archive
            // together. Rooms are never locked; rows another transaction holds are skipped.
            let moved = try await inBatches {
                try await postgres.query(
                    """
                    WITH moved AS (
                      DELETE FROM messages WHERE id IN (
                        SELECT id FROM messages WHERE created_at < now() - make_interval(days => \(Int32(days)))
                        ORDER BY created_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                      ) RETURNING *
                    ), archived AS (
                      INSERT INTO messages_archive SELECT moved.*, now() FROM moved RETURNING 1
                    ) SELECT count(*)::int FROM archived
                    """, logger: logger)
            }
            logger.info("Messages archived", metadata: ["count": "\(moved)", "days": "\(days)"])
        }
    }

    /// Runs `batch` until it reports fewer rows than a full batch; returns the total.
    static func inBatches(_ batch: () async throws -> PostgresRowSequence) async throws -> Int {
        var total = 0
        while true {
            var count = 0
            for try await row in try await batch() {
                count = try row.decode(Int.self)
            }
            total += count
            if count < batchSize { return total }
        }
    }

    /// The system's repeatable jobs, on their configured schedules.
    static func schedule(_ configuration: JobsConfiguration) -> [RepeatableJob] {
        let options = JobOptions(attempts: 3, backoff: .exponential(base: .seconds(30), cap: .seconds(600)))
        var jobs = [
            RepeatableJob(queue: queue, name: "purge-refresh-tokens", schedule: .cron(configuration.purgeTokensSchedule), options: options)
        ]
        if configuration.inactiveRoomDays > 0 {
            jobs.append(
                RepeatableJob(
                    queue: queue, name: "deactivate-idle-rooms", schedule: .cron(configuration.inactiveRoomsSchedule), options: options))
        }
        if configuration.archiveAfterDays > 0 {
            jobs.append(
                RepeatableJob(queue: queue, name: "archive-messages", schedule: .cron(configuration.archiveSchedule), options: options))
        }
        if configuration.backupDirectory != nil {
            jobs.append(
                RepeatableJob(
                    queue: queue, name: "backup-database", schedule: .cron(configuration.backupSchedule),
                    options: JobOptions(attempts: 2, backoff: .fixed(.seconds(300)))))
        }
        return jobs
    }
}
