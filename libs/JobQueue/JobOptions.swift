/// How a retry waits after a failure.
public enum JobBackoff: Sendable, Equatable {
    /// The same delay every time.
    case fixed(Duration)
    /// `base · 2^(attempt-1)`, capped, with up to ±20 % jitter so failed jobs do not retry in lockstep.
    case exponential(base: Duration, cap: Duration)

    /// The wait before retry number `attempt` (1 for the first retry); `jitter` in -1...1 (tests pass 0).
    public func delay(attempt: Int, jitter: Double = Double.random(in: -1...1)) -> Duration {
        switch self {
        case .fixed(let delay):
            return delay
        case .exponential(let base, let cap):
            let raw = base * (1 << min(max(attempt - 1, 0), 30))
            let capped = min(raw, cap)
            return max(.zero, capped + capped * (0.2 * jitter))
        }
    }
}

import Foundation

/// Options of one job.
public struct JobOptions: Sendable, Equatable {
    /// Run no earlier than this long after adding.
    public var delay: Duration = .zero
    /// 0 is normal; 1 is the most urgent, larger numbers less so (as in Bull).
    public var priority: Int = 0
    /// Tries in all, including the first.
    public var attempts: Int = 1
    public var backoff: JobBackoff = .exponential(base: .seconds(1), cap: .seconds(300))
    /// A caller-chosen id: adding a job whose id exists does nothing (deduplication).
    public var jobID: String?
    /// Run before jobs already waiting.
    public var lifo = false
    /// Run no earlier than this moment (overrides `delay` when set).
    public var runAt: Date?
    /// A try that runs longer is cancelled and counts as failed (handlers stop at their next
    /// cancellation point, as Swift tasks do).
    public var timeout: Duration?

    public init(
        delay: Duration = .zero, priority: Int = 0, attempts: Int = 1,
        backoff: JobBackoff = .exponential(base: .seconds(1), cap: .seconds(300)), jobID: String? = nil, lifo: Bool = false,
        runAt: Date? = nil, timeout: Duration? = nil
    ) {
        self.runAt = runAt
        self.timeout = timeout
        self.delay = delay
        self.priority = priority
        self.attempts = attempts
        self.backoff = backoff
        self.jobID = jobID
        self.lifo = lifo
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
