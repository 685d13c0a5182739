import Hummingbird
import Logging
import NIOCore
import Prometheus

/// A named dependency check for `/ready`.
public struct ReadinessCheck: Sendable {
    /// Shown in the `/ready` body (`postgres`, `redis`).
    public let name: String
    /// Throws when the dependency does not answer.
    public let probe: @Sendable () async throws -> Void
    /// Failed passes in a row a ``ReadinessMonitor`` tolerates before it reports the dependency
    /// down (a dependency slow to answer while the process is busy is not lost).
    public let tolerance: Int

    /// Creates a check.
    public init(name: String, tolerance: Int = 0, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.tolerance = tolerance
        self.probe = probe
    }
}

/// The `/ready` body: overall status plus `up`/`down` per dependency.
public struct ReadinessReport: ResponseCodable, Equatable {
    public var status: String
    public var checks: [String: String]
}

/// `/health`, `/ready` and `/metrics`, the same on every service.
public enum HealthRoutes {
    /// Adds the three routes to `router`.
    ///
    /// - `/health`: 200 while the process runs.
    /// - `/ready`: 200 when every check passes within two seconds, else 503 naming what is down.
    /// - `/metrics`: Prometheus text format; `beforeScrape` first sets the gauges that describe
    ///   the present (connected sockets, say) from their source.
    public static func add(
        to router: Router<VoiceFlowRequestContext>,
        checks: [ReadinessCheck],
        metrics: PrometheusCollectorRegistry,
        beforeScrape: (@Sendable () -> Void)? = nil
    ) {
        router.get("health") { _, _ in
            ["status": "ok"]
        }
        router.get("ready") { _, context in
            let report = await evaluate(checks)
            let ready = report.status == "ready"
            if !ready {
                context.logger.warning("Not ready", metadata: ["checks": "\(report.checks)"])
            }
            return EditedResponse(status: ready ? .ok : .serviceUnavailable, response: report)
        }
        addMetrics(to: router, metrics: metrics, beforeScrape: beforeScrape)
    }

    /// Adds only `/metrics` (for a service whose `/health` and `/ready` are answered by
    /// ``HealthFastPath``).
    public static func addMetrics(
        to router: Router<VoiceFlowRequestContext>, metrics: PrometheusCollectorRegistry, beforeScrape: (@Sendable () -> Void)? = nil
    ) {
        router.get("metrics") { _, _ in
            beforeScrape?()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }

    /// Runs every check (two seconds each, concurrently): ready when all are up.
    public static func evaluate(_ checks: [ReadinessCheck]) async -> ReadinessReport {
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for check in checks {
                group.addTask {
                    do {
                        try await withTimeout(.seconds(2)) { try await check.probe() }
                        return (check.name, true)
                    } catch {
                        return (check.name, false)
                    }
                }
            }
            var results: [String: String] = [:]
            for await (name, up) in group { results[name] = up ? "up" : "down" }
            return results
        }
        let ready = results.values.allSatisfy { $0 == "up" }
        return ReadinessReport(status: ready ? "ready" : "unavailable", checks: results)
    }
}
