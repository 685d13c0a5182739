import Foundation
import Hummingbird
import NIOCore
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

/// Builds the jobs service: a worker per configured queue, the scheduler of the system's
/// repeatable jobs, and `/health`, `/ready` (which also runs a `noop` job through the worker as a
/// canary) and `/metrics` (``JobsMetrics``).
///
/// The workers take no job before the HTTP port is bound: a process that cannot listen (the port
/// of another worker on the same host) fails at start-up having taken nothing. Run it with
/// ``runJobsService(configuration:logger:)`` for an error that names the port.
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
    let metrics = JobsMetrics(registry: runtime.metrics, names: handlers.names)
    let listening = StartSignal()
    let workers = configuration.queues.map { name in
        var queue = JobQueue(name: name, redis: workerRedis)
        queue.keepCompleted = configuration.keepCompleted
        queue.keepFailed = configuration.keepFailed
        return JobWorker(
            queue: queue, handlers: handlers, concurrency: configuration.concurrency, lockDuration: configuration.lockDuration,
            stalledInterval: configuration.stalledCheckInterval, maxStalled: configuration.maxStalled, startsAfter: listening,
            onTry: { metrics.record($0) }, logger: logger)
    }
    var services: [any Service] = [WorkerGroup(workers: workers, redis: workerRedis)]
    services.append(
        QueueMetricsRefresher(
            queues: configuration.queues.map { JobQueue(name: $0, redis: runtime.redis) }, metrics: metrics,
            interval: configuration.metricsInterval, logger: logger))
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
    return runtime.makeApplication(router: router, migrations: try Migration.bundled(), services: services) { _ in
        listening.open()
    }
}

/// Runs the jobs service until SIGTERM/SIGINT. A port that cannot be bound is reported as
/// ``JobsServiceError/portInUse(host:port:)`` (no job has been taken by then).
public func runJobsService(configuration: JobsConfiguration, logger: Logger) async throws {
    let application = try await buildApplication(configuration: configuration, logger: logger)
    do {
        try await application.runService()
    } catch let error as IOError where error.errnoCode == EADDRINUSE {
        throw JobsServiceError.portInUse(host: configuration.service.host, port: configuration.service.port)
    }
}

/// Why the jobs service could not run.
public enum JobsServiceError: Error, CustomStringConvertible, LocalizedError {
    /// The HTTP port (`/health`, `/ready`, `/metrics`) is taken, typically by another worker on the
    /// same host.
    case portInUse(host: String, port: Int)

    public var description: String {
        switch self {
        case .portInUse(let host, let port):
            "cannot listen on \(host):\(port): the port is already in use (another voiceflow-jobs on this host?). "
                + "Set PORT to a free port for this worker (PORT=0 picks any free one). No job was taken."
        }
    }

    public var errorDescription: String? { description }
}

/// The queue workers and the Redis client they share, as one service: the client stays open until
/// every worker has returned, so workers that are cancelled can still give their unfinished jobs
/// back to the queue.
struct WorkerGroup: Service {
    let workers: [JobWorker]
    let redis: RedisClient

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { try? await worker.run() }
            }
        }
        await redis.shutdown()
    }
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
