import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

@testable import JobsService

/// The system's jobs, run by a real worker against a scratch database and the test Redis.
@Suite(.timeLimit(.minutes(3))) struct SystemJobsTests {
    /// A migrated scratch database with a client, and a way to run one system job to its end.
    struct Harness {
        let client: PostgresClient
        let database: DatabaseConfiguration
        let logger: Logger

        func configuration(_ overrides: [String: String] = [:]) throws -> JobsConfiguration {
            var variables = TestEnvironment.serviceVariables(overrides)
            variables["DATABASE_URL"] =
                "postgresql://\(database.username):\(database.password ?? "")@\(database.host):\(database.port)/\(database.database)"
            return try JobsConfiguration(environment: EnvironmentReader(variables))
        }

        /// Adds the job, runs a worker until it finished, and returns the job's stored fields.
        func run(_ name: String, data: String = "{}", configuration: JobsConfiguration) async throws -> [String: String] {
            var handlers = JobHandlers()
            SystemJobs.register(in: &handlers, postgres: client, configuration: configuration, logger: logger)
            return try await run(name, data: data, handlers: handlers)
        }

        /// Adds the job, runs a worker with `handlers` until it finished, and returns the job's stored fields.
        func run(_ name: String, data: String, options: JobOptions = JobOptions(), handlers: JobHandlers) async throws -> [String: String] {
            let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: logger)
            let queue = JobQueue(name: "system-test-\(TestEnvironment.uniqueSuffix())", redis: redis)
            let (id, _) = try await queue.add(name: name, data: data, options: options)
            let worker = JobWorker(queue: queue, handlers: handlers, concurrency: 1, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [redis, worker], logger: logger))
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let blocking = redis.dedicated()
                _ = try await queue.waitForEvent(on: blocking) { $0.jobID == id && ["completed", "failed"].contains($0.event) }
                await blocking.shutdown()
                let fields = try await queue.job(id) ?? [:]
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return fields
            }
        }

        func count(_ sql: String) async throws -> Int {
            var count = 0
            for try await value in try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) {
                count = value
            }
            return count
        }

        func execute(_ query: PostgresQuery) async throws {
            _ = try await client.query(query, logger: logger)
        }

        /// A user (a guest when `guest`); returns its id, name and email.
        func makeUser(guest: Bool = false) async throws -> (id: UUID, username: String, email: String) {
            let suffix = TestEnvironment.uniqueSuffix()
            let username = "u" + suffix
            let email = guest ? "" : suffix + "@example.com"
            var user = UUID()
            for try await id in try await client.query(
                "INSERT INTO users (username, email, password_hash, is_guest) VALUES (\(username), \(email), '!', \(guest)) RETURNING id",
                logger: logger
            ).decode(UUID.self) {
                user = id
            }
            return (user, username, email)
        }

        /// A user and a room, `daysIdle` days since its last activity.
        func makeRoom(daysIdle: Int) async throws -> (user: UUID, room: UUID) {
            let suffix = TestEnvironment.uniqueSuffix()
            var user = UUID()
            for try await id in try await client.query(
                "INSERT INTO users (username, email, password_hash) VALUES (\("u" + suffix), \(suffix + "@example.com"), '!') RETURNING id",
                logger: logger
            ).decode(UUID.self) {
                user = id
            }
            var room = UUID()
            for try await id in try await client.query(
                """
                INSERT INTO rooms (code, name, created_by, last_activity)
                VALUES (\(String(suffix.prefix(8)).uppercased()), 'room', \(user), now() - make_interval(days => \(Int32(daysIdle))))
                RETURNING id
                """, logger: logger
            ).decode(UUID.self) {
                room = id
            }
            try await execute("INSERT INTO room_users (room_id, user_id, role) VALUES (\(room), \(user), 'admin')")
            return (user, room)
        }

        /// `count` messages in `room`, `daysOld` days old, numbered on from the room's counter.
        func addMessages(_ count: Int, to room: UUID, by user: UUID, daysOld: Int) async throws {
            try await execute(
                """
                WITH numbered AS (
                  UPDATE rooms SET last_message_seq = last_message_seq + \(count) WHERE id = \(room)
                  RETURNING last_message_seq - \(count) AS base
                )
                INSERT INTO messages (room_id, user_id, content, seq, created_at)
                SELECT \(room), \(user), 'message ' || n, numbered.base + n, now() - make_interval(days => \(Int32(daysOld)))
                FROM numbered, generate_series(1, \(count)) AS n
                """)
        }
    }

    static func withHarness(_ body: @Sendable (Harness) async throws -> Void) async throws {
        try await ScratchDatabase.with { database in
            try await ScratchDatabase.withClient(database) { client, logger in
                _ = try await MigrationRunner(client: client, logger: logger).run(try Migration.bundled())
                try await body(Harness(client: client, database: database, logger: logger))
            }
        }
    }

    @Test func oldMessagesMoveToTheArchiveInBatchesAndRecentOnesStay() async throws {
        try await Self.withHarness { harness in
            let (user, room) = try await harness.makeRoom(daysIdle: 0)
            // More than two batches of old messages, and some recent ones.
            try await harness.addMessages(SystemJobs.batchSize * 2 + 10, to: room, by: user, daysOld: 400)
            try await harness.addMessages(5, to: room, by: user, daysOld: 1)
            let job = try await harness.run("archive-messages", data: #"{"days":365}"#, configuration: try harness.configuration())
            #expect(job["state"] == "completed")
            #expect(try await harness.count("SELECT count(*)::int FROM messages") == 5)
            #expect(try await harness.count("SELECT count(*)::int FROM messages_archive") == SystemJobs.batchSize * 2 + 10)
            // The archive keeps every column, the sequence numbers included, with no gap.
            #expect(try await harness.count("SELECT count(DISTINCT seq)::int FROM messages_archive") == SystemJobs.batchSize * 2 + 10)
            #expect(try await harness.count("SELECT min(seq)::int FROM messages") == SystemJobs.batchSize * 2 + 11)
            #expect(try await harness.count("SELECT count(*)::int FROM messages_archive WHERE archived_at IS NULL") == 0)
        }
    }

    @Test func roomsIdleLongerThanTheThresholdBecomeInactive() async throws {
        try await Self.withHarness { harness in
            let (_, idle) = try await harness.makeRoom(daysIdle: 45)
            let (_, busy) = try await harness.makeRoom(daysIdle: 2)
            let job = try await harness.run("deactivate-idle-rooms", configuration: try harness.configuration(["INACTIVE_ROOM_DAYS": "30"]))
            #expect(job["state"] == "completed")
            #expect(try await harness.count("SELECT count(*)::int FROM rooms WHERE NOT is_active AND id = '\(idle)'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM rooms WHERE is_active AND id = '\(busy)'") == 1)
        }
    }

    @Test func expiredAndLongRevokedRefreshTokensArePurged() async throws {
        try await Self.withHarness { harness in
            let (user, _) = try await harness.makeRoom(daysIdle: 0)
            func token(expiresIn: String, revokedAgo: String?) async throws {
                let revoked = revokedAgo.map { "now() - interval '\($0)'" } ?? "NULL"
                try await harness.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, revoked_at)
                            VALUES ('\(user)', gen_random_uuid(), decode(md5(random()::text), 'hex'), now() + interval '\(expiresIn)', \(revoked))
                            """))
            }
            try await token(expiresIn: "-1 hour", revokedAgo: nil)  // expired
            try await token(expiresIn: "7 days", revokedAgo: "3 days")  // revoked long ago
            try await token(expiresIn: "7 days", revokedAgo: "1 minute")  // just revoked: kept to spot reuse
            try await token(expiresIn: "7 days", revokedAgo: nil)  // live
            let job = try await harness.run("purge-refresh-tokens", configuration: try harness.configuration())
            #expect(job["state"] == "completed")
            #expect(try await harness.count("SELECT count(*)::int FROM refresh_tokens") == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM refresh_tokens WHERE expires_at < now()") == 0)
        }
    }

    @Test func jobsWithoutAHandlerOrWithBadParametersAreDeadWithAReason() async throws {
        try await Self.withHarness { harness in
            let configuration = try harness.configuration()
            let unknown = try await harness.run("no-such-job", configuration: configuration)
            #expect(unknown["state"] == "failed")
            #expect(unknown["failedReason"]?.contains("no handler") == true)
            let malformed = try await harness.run("archive-messages", data: #"{"days":"many"}"#, configuration: configuration)
            #expect(malformed["state"] == "failed")
            #expect(try await harness.count("SELECT count(*)::int FROM messages_archive") == 0)
        }
    }

    @Test func theCrashJobExistsOnlyWhenTestJobsAreOn() throws {
        let harnessless = TestEnvironment.serviceVariables()
        var on = harnessless
        on["JOBS_TEST_JOBS"] = "true"
        #expect(try JobsConfiguration(environment: EnvironmentReader(harnessless)).testJobs == false)
        #expect(try JobsConfiguration(environment: EnvironmentReader(on)).testJobs == true)
        // Production with settings it accepts, except for the test jobs.
        on["APP_ENV"] = "production"
        on["DATABASE_URL"] = "postgresql://voiceflow:a-real-secret@127.0.0.1:5432/voiceflow"
        on["JOBS_TEST_JOBS"] = "false"
        #expect(try JobsConfiguration(environment: EnvironmentReader(on)).testJobs == false)
        on["JOBS_TEST_JOBS"] = "true"
        #expect {
            try JobsConfiguration(environment: EnvironmentReader(on))
        } throws: { error in
            "\(error)".contains("JOBS_TEST_JOBS")
        }
    }
}
