import Foundation
import Synchronization

/// Remembers ``RoomAccess`` answers (a room's state and one user's role in it) for a few seconds,
/// so that a member who posts or reads again does not cost a database round trip each time.
///
/// Entries are dropped per room when the rooms service announces a change of its members or
/// settings (``invalidate(room:)``, driven by ``RoomAccessInvalidator``), and expire after
/// `timeToLive` whatever happens, which bounds how long a lost event can leave an answer stale.
/// While nothing listens for those events (``isEnabled`` false) the cache answers nothing and
/// stores nothing: every lookup goes to the database. Memory is bounded by `capacity` entries.
///
/// ```swift
/// let cache = RoomAccessCache(timeToLive: .seconds(5), capacity: 10_000)
/// let access = try await cache.access(room: room, user: user) { try await repository.access(room: room, user: user) }
/// ```
final class RoomAccessCache: Sendable {
    private struct Entry {
        var access: RoomAccess
        var expires: ContinuousClock.Instant
    }

    private struct State {
        /// Entries by room, then by user: a room's entries go in one step.
        var rooms: [UUID: [UUID: Entry]] = [:]
        var count = 0
        var enabled = false
        /// Bumped by every invalidation, so that an answer read from the database before an
        /// invalidation is not stored after it.
        var generation: UInt64 = 0
    }

    /// What happened to the cache, for an observer (tests await these instead of sleeping).
    enum Change: Sendable, Equatable {
        case enabled
        case disabled
        case invalidated(UUID)
    }

    let timeToLive: Duration
    let capacity: Int
    private let state = Mutex(State())
    private let observer: (@Sendable (Change) -> Void)?

    /// A cache holding at most `capacity` answers, each for at most `timeToLive`; it starts disabled.
    /// `observer` hears of every enable, disable and invalidation after it took effect.
    init(timeToLive: Duration, capacity: Int, observer: (@Sendable (Change) -> Void)? = nil) {
        self.timeToLive = timeToLive
        self.capacity = max(1, capacity)
        self.observer = observer
    }

    /// Whether answers are kept (only while room events are being received).
    var isEnabled: Bool { state.withLock { $0.enabled } }

    /// How many answers are kept.
    var count: Int { state.withLock { $0.count } }

    /// The cached answer for (`room`, `user`), or `load`'s, which is kept if nothing invalidated the
    /// room in the meantime. `nil` answers (no such room) are not kept.
    func access(room: UUID, user: UUID, load: () async throws -> RoomAccess?) async throws -> RoomAccess? {
        let now = ContinuousClock.now
        let lookup = state.withLock { state -> (hit: RoomAccess?, generation: UInt64?) in
            guard state.enabled, timeToLive > .zero else { return (nil, nil) }
            if let entry = state.rooms[room]?[user], entry.expires > now { return (entry.access, nil) }
            return (nil, state.generation)
        }
        if let hit = lookup.hit { return hit }
        let loaded = try await load()
        if let loaded, let generation = lookup.generation {
            store(loaded, room: room, user: user, ifGeneration: generation, expires: now + timeToLive)
        }
        return loaded
    }

    /// Forgets every answer about `room`.
    func invalidate(room: UUID) {
        state.withLock { state in
            state.generation &+= 1
            if let removed = state.rooms.removeValue(forKey: room) { state.count -= removed.count }
        }
        observer?(.invalidated(room))
    }

    /// Starts keeping answers (call once room events are being received).
    func enable() {
        state.withLock { state in
            state.generation &+= 1
            state.enabled = true
        }
        observer?(.enabled)
    }

    /// Forgets everything and stops keeping answers (call when room events may be missed).
    func disable() {
        state.withLock { state in
            state.generation &+= 1
            state.enabled = false
            state.rooms = [:]
            state.count = 0
        }
        observer?(.disabled)
    }

    private func store(_ access: RoomAccess, room: UUID, user: UUID, ifGeneration generation: UInt64, expires: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.enabled, state.generation == generation else { return }
            if state.rooms[room]?[user] == nil {
                if state.count >= capacity { Self.makeRoom(&state, capacity: capacity, now: ContinuousClock.now) }
                state.count += 1
            }
            state.rooms[room, default: [:]][user] = Entry(access: access, expires: expires)
        }
    }

    /// Drops expired answers; when that is not enough, whole rooms until a tenth of `capacity` is free.
    private static func makeRoom(_ state: inout State, capacity: Int, now: ContinuousClock.Instant) {
        for (room, users) in state.rooms {
            let live = users.filter { $0.value.expires > now }
            state.count -= users.count - live.count
            state.rooms[room] = live.isEmpty ? nil : live
        }
        let target = capacity - capacity / 10 - 1
        while state.count > target, let (room, users) = state.rooms.first {
            state.rooms[room] = nil
            state.count -= users.count
        }
    }
}
