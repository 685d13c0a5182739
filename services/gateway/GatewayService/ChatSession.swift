import Foundation
import Logging
import VoiceFlowCommon
import VoiceFlowSocketIO

/// The gateway's state for one socket: who it is, the rooms it opened with the last message
/// sequence delivered in each, its typing timers, and its event budget.
///
/// Messages reach a socket only through ``deliver(_:)``, which keeps each room's stream in
/// sequence order without duplicates or gaps: a gap is filled from the messages service before
/// anything newer is sent, and live messages that arrive meanwhile wait in a bounded buffer.
actor ChatSession {
    nonisolated let user: AuthenticatedUser
    nonisolated let socket: Socket
    private(set) var token: String
    private let history: any MessageHistory
    private let logger: Logger

    private struct Cursor {
        /// Last sequence number delivered (0: none yet).
        var lastSeq: Int
        /// While catching up, live messages wait here.
        var catchingUp = true
        var buffered: [MessageDTO] = []
    }

    private var cursors: [String: Cursor] = [:]
    private var typing: [String: (timer: Task<Void, Never>, announcedAt: ContinuousClock.Instant)] = [:]
    private var bucket: TokenBucket
    /// Live messages buffered per room while catching up, before the socket is given up on.
    static let maxBuffered = 1_000

    init(user: AuthenticatedUser, token: String, socket: Socket, history: any MessageHistory, eventsPerSecond: Int, logger: Logger) {
        self.user = user
        self.token = token
        self.socket = socket
        self.history = history
        self.logger = logger
        self.bucket = TokenBucket(rate: Double(eventsPerSecond), burst: Double(eventsPerSecond * 2))
    }

    nonisolated var userID: String { user.id.uuidString.lowercased() }

    func replaceToken(_ token: String) { self.token = token }

    /// Spends one event from the socket's budget; false when it is exhausted.
    func admitEvent() -> Bool { bucket.take() }

    // MARK: Rooms

    var joinedRooms: [String] { Array(cursors.keys) }

    func hasJoined(_ roomID: String) -> Bool { cursors[roomID] != nil }

    /// Starts a room's stream; live messages are held until ``catchUp(_:after:)`` runs.
    /// Returns false when the room was already open on this socket.
    func open(_ roomID: String) -> Bool {
        guard cursors[roomID] == nil else { return false }
        cursors[roomID] = Cursor(lastSeq: 0)
        return true
    }

    func close(_ roomID: String) {
        cursors[roomID] = nil
        typing.removeValue(forKey: roomID)?.timer.cancel()
    }

    /// Sends every message after `seq` (or, with `nil`, nothing older than now), then the live
    /// messages held meanwhile, in order; then live delivery resumes.
    func catchUp(_ roomID: String, after seq: Int?) async {
        guard cursors[roomID] != nil else { return }
        if let seq {
            cursors[roomID]?.lastSeq = seq
            await fill(roomID)
        } else {
            do throws(GatewayError) {
                let latest = try await history.latestSeq(in: roomID, token: token)
                cursors[roomID]?.lastSeq = latest
            } catch {
                logger.warning("Latest sequence unavailable", metadata: ["room.id": "\(roomID)", "error.code": "\(error.code)"])
            }
            await fill(roomID)
        }
    }

    /// A message published to a room this socket may have open.
    func deliver(_ message: MessageDTO) async {
        guard var cursor = cursors[message.roomId] else { return }
        guard let seq = message.seq else {
            emit(message)
            return
        }
        if cursor.catchingUp {
            guard cursor.buffered.count < Self.maxBuffered else {
                logger.warning("Socket too far behind, disconnecting", metadata: ["socket.id": "\(socket.id)"])
                await socket.disconnect(closeConnection: true)
                return
            }
            cursor.buffered.append(message)
            cursors[message.roomId] = cursor
            return
        }
        if seq <= cursor.lastSeq { return }
        if seq == cursor.lastSeq + 1 {
            emit(message)
            cursor.lastSeq = seq
            cursors[message.roomId] = cursor
            return
        }
        // A gap: some message was not (yet) seen live; fetch what is missing first.
        cursor.catchingUp = true
        cursor.buffered.append(message)
        cursors[message.roomId] = cursor
        await fill(message.roomId)
    }

    /// Catches a room up from the messages service, then drains the held live messages.
    private func fill(_ roomID: String) async {
        cursors[roomID]?.catchingUp = true
        var fetchedOnce = false
        while var cursor = cursors[roomID] {
            cursor.buffered.sort { ($0.seq ?? 0) < ($1.seq ?? 0) }
            var waiting: [MessageDTO] = []
            for message in cursor.buffered {
                let seq = message.seq ?? 0
                if seq <= cursor.lastSeq { continue }
                if seq == cursor.lastSeq + 1 {
                    emit(message)
                    cursor.lastSeq = seq
                } else {
                    waiting.append(message)
                }
            }
            cursor.buffered = waiting
            if fetchedOnce && waiting.isEmpty {
                cursor.catchingUp = false
                cursors[roomID] = cursor
                return
            }
            cursors[roomID] = cursor
            let page: MessagePage
            do throws(GatewayError) {
                page = try await history.messages(in: roomID, after: cursor.lastSeq, token: token)
            } catch {
                logger.warning("Catch-up failed", metadata: ["room.id": "\(roomID)", "error.code": "\(error.code)"])
                socket.emit("error", [GatewayError(code: error.code, message: "Could not load missed messages").payload])
                giveUpCatchingUp(roomID)
                return
            }
            fetchedOnce = true
            guard var current = cursors[roomID] else { return }
            for message in page.data {
                guard let seq = message.seq, seq > current.lastSeq else { continue }
                emit(message)
                current.lastSeq = seq
            }
            cursors[roomID] = current
            if !page.hasMore, let first = current.buffered.map({ $0.seq ?? 0 }).min(), first > current.lastSeq + 1 {
                // The history is complete and still has nothing between: those numbers are gone for good.
                current.lastSeq = first - 1
                cursors[roomID] = current
            }
            if page.hasMore { fetchedOnce = false }
        }
    }

    /// Delivers what is held, in order, and resumes live delivery.
    private func giveUpCatchingUp(_ roomID: String) {
        guard var cursor = cursors[roomID] else { return }
        for message in cursor.buffered.sorted(by: { ($0.seq ?? 0) < ($1.seq ?? 0) }) where (message.seq ?? 0) > cursor.lastSeq {
            emit(message)
            cursor.lastSeq = message.seq ?? cursor.lastSeq
        }
        cursor.buffered = []
        cursor.catchingUp = false
        cursors[roomID] = cursor
    }

    private func emit(_ message: MessageDTO) {
        guard let value = try? SocketIOValue(encoding: message) else { return }
        socket.emit("message:received", [value])
    }

    // MARK: Typing

    /// Starts or refreshes typing in a room; returns whether to announce it (first start, or the
    /// last announcement is older than the throttle). `onExpiry` runs if no refresh comes in time.
    func startTyping(_ roomID: String, timeout: Duration, onExpiry: @escaping @Sendable () async -> Void) -> Bool {
        let now = ContinuousClock.now
        let previous = typing.removeValue(forKey: roomID)
        previous?.timer.cancel()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            if self.expireTyping(roomID) { await onExpiry() }
        }
        let announce = previous.map { now - $0.announcedAt >= .seconds(3) } ?? true
        typing[roomID] = (timer, announce ? now : previous!.announcedAt)
        return announce
    }

    private func expireTyping(_ roomID: String) -> Bool {
        typing.removeValue(forKey: roomID) != nil
    }

    /// Stops typing in a room; returns whether the user was typing there.
    func stopTyping(_ roomID: String) -> Bool {
        guard let entry = typing.removeValue(forKey: roomID) else { return false }
        entry.timer.cancel()
        return true
    }

    /// Rooms where the user was typing; all timers cancelled.
    func stopAllTyping() -> [String] {
        let rooms = Array(typing.keys)
        for entry in typing.values { entry.timer.cancel() }
        typing.removeAll()
        return rooms
    }
}

/// A token bucket: `rate` events per second, bursts up to `burst`.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated = ContinuousClock.now

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
    }

    mutating func take() -> Bool {
        let now = ContinuousClock.now
        let elapsed = now - updated
        updated = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
