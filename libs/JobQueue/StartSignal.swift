import Synchronization

/// A one-shot signal: tasks wait until someone opens it (or until they are cancelled).
///
/// The jobs service opens it once its HTTP port is bound, so that a worker never takes a job in a
/// process that is about to fail at start-up.
///
/// ```swift
/// let listening = StartSignal()
/// let worker = JobWorker(queue: queue, handlers: handlers, startsAfter: listening, logger: logger)
/// // ... once the port is bound:
/// listening.open()
/// ```
public final class StartSignal: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// A closed signal.
    public init() {}

    /// Whether `open()` was called.
    public var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Opens the signal: every waiter, and every later `wait()`, returns.
    public func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the signal is open; throws `CancellationError` if the task is cancelled first.
    public func wait() async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.isOpen { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
