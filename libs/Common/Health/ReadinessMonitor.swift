import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the readiness checks in the background and keeps the last result, so that `/ready` and
/// `/health` can be answered at once from memory, however busy the process is (see
/// ``HealthFastPath``). Run it as a `Service`.
public final class ReadinessMonitor: Service, Sendable {
    /// The last verdict, as `/ready` answers it.
    public struct Snapshot: Sendable, Equatable {
        public var ready: Bool
        /// The `/ready` body (a ``ReadinessReport``, JSON).
        public var body: [UInt8]
    }

    private let checks: [ReadinessCheck]
    private let period: Duration
    private let logger: Logger
    private let last: Mutex<Snapshot>
    private let onVerdict: @Sendable (Bool) -> Void

    /// A monitor running `checks` every `period` (each check has two seconds). `onVerdict` is told
    /// the verdict after every pass (and `false` once the monitor stops), so that what depends on
    /// readiness (a server admitting new sessions, say) follows it.
    public init(
        checks: [ReadinessCheck], period: Duration = .milliseconds(500), logger: Logger,
        onVerdict: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.checks = checks
        self.period = period
        self.logger = logger
        self.onVerdict = onVerdict
        self.last = Mutex(Snapshot(ready: false, body: Self.encode(ReadinessReport(status: "starting", checks: [:]))))
    }

    /// The verdict of the last pass (not ready until the first pass is done).
    public var snapshot: Snapshot { last.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var wasReady: Bool?
            var failuresInARow: [String: Int] = [:]
            var passedOnce: Set<String> = []
            while !Task.isCancelled {
                var report = await HealthRoutes.evaluate(self.checks)
                // A check within its tolerance of failed passes still counts as up, once it has
                // passed: a dependency never reached since the start is down from the first pass.
                for check in self.checks {
                    let failed = report.checks[check.name] == "down"
                    if !failed { passedOnce.insert(check.name) }
                    failuresInARow[check.name] = failed ? (failuresInARow[check.name] ?? 0) + 1 : 0
                    if failed, passedOnce.contains(check.name), failuresInARow[check.name] ?? 0 <= check.tolerance {
                        report.checks[check.name] = "up"
                    }
                }
                report.status = report.checks.values.allSatisfy { $0 == "up" } ? "ready" : "unavailable"
                let ready = report.status == "ready"
                self.last.withLock { $0 = Snapshot(ready: ready, body: Self.encode(report)) }
                self.onVerdict(ready)
                // Not ready at the very start (before the first connections) is expected; losing readiness is not.
                if !ready, wasReady == true { self.logger.warning("Not ready", metadata: ["checks": "\(report.checks)"]) }
                if !ready, wasReady == nil { self.logger.info("Not ready yet", metadata: ["checks": "\(report.checks)"]) }
                wasReady = ready
                try? await Task.sleep(for: self.period)
            }
        }
        last.withLock { $0 = Snapshot(ready: false, body: Self.encode(ReadinessReport(status: "unavailable", checks: ["shutdown": "down"]))) }
        onVerdict(false)
    }

    private static func encode(_ report: ReadinessReport) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(report)) ?? Data(#"{"status":"unavailable","checks":{}}"#.utf8))
    }
}
