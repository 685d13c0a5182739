import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

/// Builds the jobs service: a worker per configured queue, the scheduler of the system's
/// repeatable jobs, and `/health`, `/ready` (which also runs a `noop` job through the worker as a
/// canary) and `/metrics`.
public func buildApplication(configuration: JobsConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let runtime = ServiceRuntime(name: "jobs", configuration: configuration.service, logger: logger)
    var handlers = JobHandlers()
    SystemJobs.register(in: &handlers, postgres: runtime.postgres, configuration: configuration, logger: logger)
    let smtp = try configuration.smtp.map { configuration throws(SMTPError) in try SMTPClient(configuration: configuration, logger: logger) }
    let signIn = configuration.service.allowedOrigins.first ?? "http://localhost:8080"
    EmailJobs.register(in: &handlers, postgres: runtime.postgres, smtp: smtp, links: .init(signIn: signIn), logger: logger)
    // The workers' state moves have connections of their own, apart from the readiness checks
    // (each worker also opens one more for its blocking wait for work).
    var redisConfiguration = configuration.service.redis
    redisConfiguration.poolSize = max(2, min(16, configuration.concurrency * configuration.queues.count))
    let workerRedis = RedisClient(configuration: redisConfiguration, logger: logger)
    var services: [any Service] = [workerRedis]
    services += configuration.queues.map { name -> any Service in
        var queue = JobQueue(name: name, redis: workerRedis)
        queue.keepCompleted = configuration.keepCompleted
        queue.keepFailed = configuration.keepFailed
        return JobWorker(
            queue: queue, handlers: handlers, concurrency: configuration.concurrency, lockDuration: configuration.lockDuration,
            stalledInterval: configuration.stalledCheckInterval, maxStalled: configuration.maxStalled, logger: logger)
    }
    if configuration.runsScheduler {
        services.append(JobScheduler(redis: runtime.redis, jobs: SystemJobs.schedule(configuration), logger: logger))
    }
    if configuration.queues.contains(PlatformJobs.emailQueue) {
        // The email limit is the queue's own, shared by every worker: whichever starts last sets it.
        let emailQueue = JobQueue(name: PlatformJobs.emailQueue, redis: runtime.redis)
        services.append(EmailRateLimit(queue: emailQueue, perMinute: configuration.emailsPerMinute, logger: logger))
    }
    var checks: [ReadinessCheck] = []
    if let canaryQueue = configuration.queues.first {
        let queue = JobQueue(name: canaryQueue, redis: runtime.redis)
        checks.append(ReadinessCheck(name: "worker") { try await Canary.run(on: queue) })
    }
    let router = runtime.makeRouter(readinessChecks: checks)
    return runtime.makeApplication(router: router, migrations: try Migration.bundled(), services: services)
}

/// Runs a `noop` job through the worker: ready means jobs actually get done.
enum Canary {
    static func run(on queue: JobQueue) async throws {
        let (id, _) = try await queue.add(name: "noop", data: "{}", options: JobOptions(priority: 1, jobID: "canary-\(UUID().uuidString)"))
        for _ in 0..<30 {
            if let fields = try await queue.job(id), fields["state"] == "completed" {
                try? await queue.forget(id)
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw APIError.serviceUnavailable
    }
}

/// Applies `EMAIL_RATE_LIMIT_PER_MINUTE` to the email queue once Redis answers (retrying until it
/// does), then idles until shutdown.
struct EmailRateLimit: Service {
    let queue: JobQueue
    let perMinute: Int
    let logger: Logger

    func run() async throws {
        let limit = perMinute > 0 ? JobRateLimit(max: perMinute, per: .seconds(60)) : nil
        var delay = Duration.milliseconds(200)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await queue.setRateLimit(limit)
                break
            } catch {
                logger.warning("Email rate limit not set yet", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        try? await gracefulShutdown()
    }
}
