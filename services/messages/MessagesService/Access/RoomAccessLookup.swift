import Foundation

/// The room access check of every message request: from ``RoomAccessCache`` when it holds the
/// answer, else from the repository (and then remembered).
struct RoomAccessLookup: Sendable {
    let repository: any MessageRepository
    let cache: RoomAccessCache
    let metrics: MessageMetrics

    /// The room and the user's role in it, possibly a few seconds old (see ``RoomAccessCache``).
    func access(room: UUID, user: UUID) async throws -> RoomAccess? {
        var missed = false
        let found = try await cache.access(room: room, user: user) {
            missed = true
            return try await repository.access(room: room, user: user)
        }
        metrics.accessChecked(hit: !missed)
        return found
    }

    /// The room and the user's role in it as the database says right now.
    func fresh(room: UUID, user: UUID) async throws -> RoomAccess? {
        try await repository.access(room: room, user: user)
    }

    /// Forgets what the cache knows about `room`.
    func forget(room: UUID) {
        cache.invalidate(room: room)
    }
}
