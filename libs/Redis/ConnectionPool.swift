/// The command connections of a ``RedisClient``: a fixed number of slots, filled on demand.
actor ConnectionPool {
    private var slots: [RedisConnection?]
    private var connecting: [Int: Task<RedisConnection, any Error>] = [:]
    private var next = 0
    private var closed = false
    private var consecutiveFailures = 0
    private var retryNotBefore: ContinuousClock.Instant?

    init(size: Int) {
        self.slots = Array(repeating: nil, count: size)
    }

    /// A live connection, round-robin over the slots; connects the slot when it is empty or dead.
    /// While in a backoff window after failed connects, fails at once.
    func connection(
        connect: @escaping @Sendable () async throws(RedisError) -> RedisConnection,
        backoff: (Int) -> Duration
    ) async throws(RedisError) -> (Int, RedisConnection) {
        guard !closed else { throw .clientClosed }
        let slot = next % slots.count
        next &+= 1
        if let connection = slots[slot], connection.isActive { return (slot, connection) }
        if let pending = connecting[slot] {
            do { return (slot, try await pending.value) } catch { throw (error as? RedisError) ?? .connectionClosed }
        }
        if let retryNotBefore, ContinuousClock.now < retryNotBefore { throw .connectionClosed }

        let task = Task { () async throws -> RedisConnection in try await connect() }
        connecting[slot] = task
        defer { connecting[slot] = nil }
        do {
            let connection = try await task.value
            guard !closed else {
                connection.close()
                throw RedisError.clientClosed
            }
            slots[slot] = connection
            consecutiveFailures = 0
            retryNotBefore = nil
            return (slot, connection)
        } catch {
            consecutiveFailures += 1
            retryNotBefore = ContinuousClock.now + backoff(consecutiveFailures)
            throw (error as? RedisError) ?? .connectionClosed
        }
    }

    /// Forgets `connection` after a failure so the slot reconnects next time.
    func discard(_ connection: RedisConnection, at slot: Int) {
        guard slots.indices.contains(slot), slots[slot] === connection else { return }
        connection.close()
        slots[slot] = nil
    }

    /// Closes every connection; later requests fail with ``RedisError/clientClosed``.
    func close() {
        closed = true
        for connection in slots.compactMap({ $0 }) { connection.close() }
        slots = slots.map { _ in nil }
        connecting.values.forEach { $0.cancel() }
    }
}
