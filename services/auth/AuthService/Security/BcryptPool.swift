import HTTPTypes
import NIOPosix
import ServiceLifecycle
import Synchronization
import VoiceFlowCommon

/// Where bcrypt runs: a thread pool of its own (about one thread per core) behind a bounded
/// admission gate, so a burst of logins cannot starve the rest of the service.
///
/// At most `threads` hashes run at once and at most `queueLength` more wait for a thread; a request
/// beyond that is refused at once with 503 `SERVICE_UNAVAILABLE` and `Retry-After`, instead of
/// queuing without limit behind work that takes a quarter of a second per item. Health checks, token
/// refreshes and everything else that does not hash never wait for it.
///
/// The pool's threads start with it; as a `Service` it shuts them down when the service group ends,
/// after the HTTP server (the application's services stop after its server).
///
/// ```swift
/// let pool = BcryptPool(threads: System.coreCount, queueLength: 4 * System.coreCount)
/// let hash = try await pool.run { Bcrypt.hash(password, cost: 12) }
/// ```
final class BcryptPool: Service, Sendable {
    /// Hashes that may run at once.
    let threads: Int
    /// Hashes that may wait for a thread.
    let queueLength: Int
    private let pool: NIOThreadPool
    private let admitted = Mutex(0)

    /// What a refused request is told to wait before trying again.
    static let retryAfterSeconds = 1

    /// A pool of `threads` threads (at least one) admitting `queueLength` waiting jobs; its threads start now.
    init(threads: Int, queueLength: Int) {
        self.threads = max(1, threads)
        self.queueLength = max(0, queueLength)
        self.pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// Jobs admitted and not finished (running or waiting).
    var occupancy: Int { admitted.withLock { $0 } }

    /// Runs `work` on the pool, or throws 503 `SERVICE_UNAVAILABLE` at once when every thread is busy
    /// and the queue is full.
    func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async throws -> Value {
        let capacity = threads + queueLength
        let entered = admitted.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard entered else { throw Self.overloaded }
        defer { admitted.withLock { $0 -= 1 } }
        return try await pool.runIfActive(work)
    }

    /// Waits for the end of the service group, then stops the threads once running work is done.
    func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops the threads once running work is done; later work fails.
    func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    /// The answer when the pool is full.
    static var overloaded: APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return APIError(
            status: .serviceUnavailable, code: .serviceUnavailable,
            message: "Too many sign-ins are being checked right now, try again shortly", headers: headers)
    }
}
