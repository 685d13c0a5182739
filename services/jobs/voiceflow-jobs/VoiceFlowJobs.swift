import ArgumentParser
import Foundation
import Hummingbird
import JobsService
import Logging
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

/// `voiceflow-jobs`: the worker and scheduler (the default), and operator commands on the queues.
/// With no flags it talks to the local stack (`REDIS_URL`, `DATABASE_URL` as for every service).
@main
struct VoiceFlowJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voiceflow-jobs",
        abstract: "Runs VoiceFlow's background jobs, and inspects and manages its queues.",
        subcommands: [
            Worker.self, Stats.self, Failed.self, Retry.self, Clean.self, Pause.self, Resume.self, RateLimit.self, Events.self, Enqueue.self, Backup.self,
            Restore.self,
        ],
        defaultSubcommand: Worker.self)
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take and run jobs, and add the scheduled system jobs (the default).")

    @Option(help: "Comma-separated queues to work (default: JOBS_QUEUES, or default,system,email).")
    var queues: String?

    @Option(help: "Jobs run at once per queue (default: JOBS_CONCURRENCY, or 4).")
    var concurrency: Int?

    func run() async throws {
        var configuration = try JobsConfiguration()
        if let queues { configuration.queues = queues.split(separator: ",").map(String.init) }
        if let concurrency { configuration.concurrency = max(1, concurrency) }
        let level = Logger.Level(configValue: configuration.service.logLevel)
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: level) }
        let logger = Logger(label: "voiceflow-jobs")
        try await runJobsService(configuration: configuration, logger: logger)
    }
}

/// What every operator command needs: a queue by name on the configured Redis.
struct QueueOptions: ParsableArguments {
    @Option(help: "The queue.")
    var queue = "default"

    func withQueue<T>(_ body: (JobQueue, RedisClient) async throws -> T) async throws -> T {
        let redis = try Operator.redis()
        do {
            let result = try await body(JobQueue(name: queue, redis: redis), redis)
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }
}

enum Operator {
    static func redis() throws -> RedisClient {
        let configuration = try ServiceConfiguration(defaultPort: 3006)
        var logger = Logger(label: "voiceflow-jobs")
        logger.logLevel = .error
        return RedisClient(configuration: configuration.redis, logger: logger)
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Queue names present on Redis (from their keys, `jq:{name}:...`).
    static func queueNames(_ redis: RedisClient) async throws -> [String] {
        var names = Set<String>()
        var cursor = "0"
        repeat {
            let reply = try await redis.send(["SCAN", cursor, "MATCH", "jq:{*}:*", "COUNT", "1000"]).array ?? []
            cursor = reply.first?.string ?? "0"
            for key in reply.last?.array?.compactMap(\.string) ?? [] {
                if let open = key.firstIndex(of: "{"), let close = key.firstIndex(of: "}"), open < close {
                    names.insert(String(key[key.index(after: open)..<close]))
                }
            }
        } while cursor != "0"
        return names.sorted()
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print job counts per queue as JSON.")

    @Option(help: "Only this queue (default: every queue on Redis).")
    var queue: String?

    func run() async throws {
        let redis = try Operator.redis()
        var names: [String]
        if let queue { names = [queue] } else { names = try await Operator.queueNames(redis) }
        var counts: [String: JobCounts] = [:]
        for name in names { counts[name] = try await JobQueue(name: name, redis: redis).counts() }
        await redis.shutdown()
        try Operator.printJSON(counts)
    }
}

struct Failed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List dead jobs with their reasons, newest first, as JSON.")
    @OptionGroup var queue: QueueOptions
    @Option(help: "At most this many.") var limit = 100

    func run() async throws {
        let jobs = try await queue.withQueue { queue, _ in try await queue.failedJobs(limit: limit) }
        try Operator.printJSON(jobs)
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move dead jobs back to the queue with fresh attempts.")
    @OptionGroup var queue: QueueOptions
    @Option(help: "Only this job (default: all dead jobs).") var id: String?

    func run() async throws {
        let count = try await queue.withQueue { queue, _ in try await queue.retryFailed(id: id) }
        try Operator.printJSON(["retried": count])
    }
}

struct Clean: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete finished jobs.")
    @OptionGroup var queue: QueueOptions
    @Option(help: "completed or failed.") var state = "completed"
    @Option(help: "Only those finished more than this many seconds ago.") var olderThan = 0

    func run() async throws {
        guard let finished = JobQueue.FinishedState(rawValue: state) else {
            throw ValidationError("--state must be completed or failed")
        }
        let count = try await queue.withQueue { queue, _ in try await queue.clean(finished, olderThan: .seconds(olderThan)) }
        try Operator.printJSON(["deleted": count])
    }
}

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop handing out a queue's jobs (running ones finish).")
    @OptionGroup var queue: QueueOptions

    func run() async throws {
        try await queue.withQueue { queue, _ in try await queue.pause() }
        try Operator.printJSON(["paused": queue.queue])
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hand out a paused queue's jobs again.")
    @OptionGroup var queue: QueueOptions

    func run() async throws {
        try await queue.withQueue { queue, _ in try await queue.resume() }
        try Operator.printJSON(["resumed": queue.queue])
    }
}

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add jobs: enqueue QUEUE NAME JSON [--count N].")
    @Argument(help: "The queue.") var queue: String
    @Argument(help: "The job name (its handler).") var name: String
    @Argument(help: "The job's parameters, as JSON.") var json = "{}"
    @Option(help: "How many copies.") var count = 1
    @Option(help: "Tries in all.") var attempts = 1
    @Option(help: "Run no earlier than this many milliseconds from now.") var delayMs = 0
    @Option(help: "1 is the most urgent; 0 (the default) is normal.") var priority = 0
    @Option(help: "Fail a try that runs longer than this many milliseconds (0: no limit).") var timeoutMs = 0

    func validate() throws {
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) != nil else {
            throw ValidationError("JSON is not valid JSON")
        }
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        let redis = try Operator.redis()
        let jobQueue = JobQueue(name: queue, redis: redis)
        let options = JobOptions(
            delay: .milliseconds(delayMs), priority: max(0, priority), attempts: max(1, attempts),
            timeout: timeoutMs > 0 ? .milliseconds(timeoutMs) : nil)
        var added = 0
        var remaining = count
        while remaining > 0 {
            let batch = min(remaining, 200)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<batch {
                    group.addTask { try await jobQueue.add(name: name, data: json, options: options) }
                }
                try await group.waitForAll()
            }
            added += batch
            remaining -= batch
        }
        await redis.shutdown()
        try Operator.printJSON(["enqueued": added])
    }
}

struct RateLimit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rate-limit", abstract: "Show, set (--max N --per-ms W) or remove (--off) a queue's global rate limit.")
    @OptionGroup var queue: QueueOptions
    @Option(help: "Jobs started per window, across all workers.") var max: Int?
    @Option(help: "The window, in milliseconds.") var perMs = 1000
    @Flag(help: "Remove the limit.") var off = false

    func validate() throws {
        if let max, max < 1 { throw ValidationError("--max must be at least 1") }
        guard perMs >= 1 else { throw ValidationError("--per-ms must be at least 1") }
        if off && max != nil { throw ValidationError("--off and --max exclude each other") }
    }

    func run() async throws {
        let limit = try await queue.withQueue { queue, _ -> JobRateLimit? in
            if off {
                try await queue.setRateLimit(nil)
            } else if let max {
                try await queue.setRateLimit(JobRateLimit(max: max, per: .milliseconds(perMs)))
            }
            return try await queue.rateLimit()
        }
        struct Shown: Encodable {
            var queue: String
            var max: Int?
            var perMs: Int64?
        }
        try Operator.printJSON(Shown(queue: queue.queue, max: limit?.max, perMs: limit?.windowMilliseconds))
    }
}

/// The backup settings of the worker, for the backup commands.
enum BackupOptions {
    static func make(directory: String?) throws -> DatabaseBackup {
        let configuration = try JobsConfiguration()
        var logger = Logger(label: "voiceflow-jobs")
        logger.logLevel = .error
        guard let directory = directory ?? configuration.backupDirectory else {
            throw ValidationError("no backup directory: set BACKUP_DIR or pass --dir")
        }
        return DatabaseBackup(database: configuration.service.database, directory: directory, keep: configuration.backupsKept, logger: logger)
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back the database up now with pg_dump (into BACKUP_DIR, keeping the newest BACKUP_KEEP).")
    @Option(help: "The backup directory (default: BACKUP_DIR).") var dir: String?

    func run() async throws {
        let path = try await BackupOptions.make(directory: dir).backUp()
        try Operator.printJSON(["backup": path])
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup with pg_restore into an empty database (default: the one of DATABASE_URL).")
    @Argument(help: "The backup file (see `ls $BACKUP_DIR`).") var file: String
    @Option(help: "The database to restore into, on the same server (it must exist and be empty).") var database: String?

    func run() async throws {
        var backup = try BackupOptions.make(directory: (file as NSString).deletingLastPathComponent)
        backup.keep = Int.max
        try await backup.restore(file, into: database)
        try Operator.printJSON(["restored": file, "database": database ?? backup.database.database])
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a queue's recent state moves, one JSON object per line; --follow keeps printing new ones.")
    @OptionGroup var queue: QueueOptions
    @Option(help: "Only events after this stream id (default: the oldest kept).") var after = "0"
    @Option(help: "At most this many (without --follow).") var limit = 100
    @Flag(help: "Keep printing new events until interrupted.") var follow = false

    func run() async throws {
        try await queue.withQueue { queue, redis in
            // Following blocks on the stream (XREAD BLOCK), on a connection of its own; it runs
            // until the process is interrupted.
            let blocking = follow ? redis.dedicated() : nil
            var last = after
            repeat {
                let events =
                    if let blocking {
                        try await queue.waitForEvents(after: last, timeout: .seconds(2), on: blocking)
                    } else {
                        try await queue.events(after: last, limit: limit)
                    }
                for event in events {
                    var line = event.fields
                    line["id"] = event.id
                    line["event"] = event.event
                    line["jobId"] = event.jobID
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(line), as: UTF8.self))
                    last = event.id
                }
            } while follow
        }
    }
}

