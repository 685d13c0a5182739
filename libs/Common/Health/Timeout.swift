/// Thrown by ``withTimeout(_:operation:)`` when the deadline passes first.
public struct TimeoutError: Error, Sendable {}

/// Runs `operation`, throwing ``TimeoutError`` if it takes longer than `timeout`.
public func withTimeout<Value: Sendable>(
    _ timeout: Duration,
    operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        guard let value = try await group.next() else { throw TimeoutError() }
        return value
    }
}
