import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import VoiceFlowJobQueue

/// The jobs service's figures on `/metrics`, beside the HTTP ones:
///
/// | metric | kind | labels | what |
/// |---|---|---|---|
/// | `jobs_queue_jobs` | gauge | `queue`, `state` | jobs per state on Redis (all workers): `waiting`, `active`, `delayed`, and the `completed` and `failed` still kept; refreshed every `JOBS_METRICS_SECONDS` |
/// | `jobs_queue_finished` | gauge | `queue`, `outcome` | the queue's lifetime totals on Redis (all workers): `completed`, `failed`, `retried` |
/// | `jobs_processed_total` | counter | `queue`, `outcome` | tries this process ended: `completed`, `retrying`, `failed`, `released`, `unrecorded` |
/// | `jobs_duration_seconds` | histogram | `queue`, `name` | how long each try's handler ran in this process |
final class JobsMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let knownNames: Set<String>
    private let tries = Mutex<[String: Counter]>([:])
    private let durations = Mutex<[String: DurationHistogram]>([:])

    static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]
    static let states = ["waiting", "active", "delayed", "completed", "failed"]
    static let outcomes = ["completed", "failed", "retried"]

    private static var depth: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "jobs_queue_jobs", unitName: "", helpText: "Jobs per state on Redis (completed and failed: those still kept)")
    }
    private static var finished: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "jobs_queue_finished", unitName: "", helpText: "Jobs finished since the queue began, all workers (lifetime totals on Redis)")
    }
    private static var processed: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "jobs_processed", unitName: "total", helpText: "Tries ended by this process, by outcome")
    }
    private static var duration: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "jobs_duration", unitName: "seconds", helpText: "How long each try's handler ran in this process")
    }

    /// `names`: the registered job names (others are labelled `unregistered`, to bound the labels).
    init(registry: PrometheusCollectorRegistry, names: [String]) {
        self.registry = registry
        self.knownNames = Set(names)
    }

    /// Records one ended try.
    func record(_ report: JobTryReport) {
        let name = knownNames.contains(report.name) ? report.name : "unregistered"
        let key = report.queue + "\u{0}" + report.outcome.rawValue
        let counter = tries.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.processed, labels: [("queue", report.queue), ("outcome", report.outcome.rawValue)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogramKey = report.queue + "\u{0}" + name
        let histogram = durations.withLock { histograms in
            if let histogram = histograms[histogramKey] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.duration, labels: [("queue", report.queue), ("name", name)], buckets: Self.durationBuckets)
            histograms[histogramKey] = histogram
            return histogram
        }
        histogram.record(report.duration)
    }

    /// Sets the queue gauges from `counts`.
    func update(queue: String, counts: JobCounts) {
        let values = [counts.waiting, counts.active, counts.delayed, counts.completed, counts.failed]
        for (state, value) in zip(Self.states, values) {
            registry.makeGauge(descriptor: Self.depth, labels: [("queue", queue), ("state", state)]).set(Int64(value))
        }
        for (outcome, value) in zip(Self.outcomes, [counts.totalCompleted, counts.totalFailed, counts.totalRetried]) {
            registry.makeGauge(descriptor: Self.finished, labels: [("queue", queue), ("outcome", outcome)]).set(Int64(value))
        }
    }
}

/// Reads every worked queue's counts from Redis every `interval` into ``JobsMetrics``, until
/// graceful shutdown.
struct QueueMetricsRefresher: Service {
    let queues: [JobQueue]
    let metrics: JobsMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func refresh() async {
        for queue in queues {
            do {
                metrics.update(queue: queue.name, counts: try await queue.counts())
            } catch {
                logger.debug("Queue metrics not refreshed", metadata: ["queue": "\(queue.name)", "error.type": "\(type(of: error))"])
            }
        }
    }
}
