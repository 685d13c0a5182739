import Foundation
import Logging
import Synchronization
import VoiceFlowCommon
import VoiceFlowSocketIO

/// The gateway's state for one socket: who it is, its current access token, the rooms it opened,
/// its typing timers, and its event budget.
///
/// Messages reach the socket through each room's ``RoomStream``, which also keeps the last
/// sequence number the socket was given there; this type holds nothing per message.
actor ChatSession {
    nonisolated let user: AuthenticatedUser
    nonisolated let socket: Socket
    private nonisolated let credentials: Mutex<Credentials>

    private var rooms: Set<String> = []
    private var typing: [String: (timer: Task<Void, Never>, announcedAt: ContinuousClock.Instant)] = [:]
    private var bucket: TokenBucket
    /// `voice:signal` has budgets of its own (a WebRTC negotiation trickles many ICE candidates
    /// at once): signals, and their bytes.
    private var signals: TokenBucket
    private var signalBytes: TokenBucket
    private nonisolated let seat = Mutex<VoiceSeat?>(nil)
    private var speaking = SpeakingGate()

    /// What `voice:speaking` last asked for and last applied, for the throttle.
    private struct SpeakingGate {
        var sessionID: String?
        var desired = false
        var applied = false
        var lastApplied: ContinuousClock.Instant?
        var pending: Task<Void, Never>?
    }

    /// The access token in use and what its verification said.
    struct Credentials: Sendable {
        var token: String
        var expiresAt: Date
        /// The login session the token belongs to, when it has one.
        var loginSession: String?
    }

    /// What one socket may send: events per second (bursts of twice that), and `voice:signal`s
    /// and their bytes per second (bursts of four times those).
    struct Budget: Sendable {
        var eventsPerSecond = 20
        var signalsPerSecond = 50
        var signalBytesPerSecond = 256 * 1024
    }

    init(token: String, verified: VerifiedToken, socket: Socket, budget: Budget) {
        self.user = verified.user
        self.credentials = Mutex(Credentials(token: token, expiresAt: verified.expiresAt, loginSession: verified.loginSession))
        self.socket = socket
        self.bucket = TokenBucket(rate: Double(budget.eventsPerSecond), burst: Double(budget.eventsPerSecond * 2))
        self.signals = TokenBucket(rate: Double(budget.signalsPerSecond), burst: Double(budget.signalsPerSecond * 4))
        self.signalBytes = TokenBucket(rate: Double(budget.signalBytesPerSecond), burst: Double(budget.signalBytesPerSecond * 4))
    }

    nonisolated var userID: String { user.id.lowercasedString }

    /// The access token the socket authenticated with last (CONNECT or `auth:refresh`).
    nonisolated var token: String { credentials.withLock { $0.token } }

    /// When that token expires: the socket is disconnected then unless it refreshes first.
    nonisolated var tokenExpiresAt: Date { credentials.withLock { $0.expiresAt } }

    /// The login session of the socket's token, when it has one.
    nonisolated var loginSession: String? { credentials.withLock { $0.loginSession } }

    /// Takes a fresh token (from `auth:refresh`) of the same user.
    nonisolated func replaceToken(_ token: String, verified: VerifiedToken) {
        credentials.withLock { $0 = Credentials(token: token, expiresAt: verified.expiresAt, loginSession: verified.loginSession) }
    }

    /// Spends one event from the socket's budget; false when it is exhausted. The budget goes by
    /// when the event arrived (``Socket/eventReceivedAt`` in a handler), so events handled late
    /// are metered at the rate the client sent them.
    func admitEvent(receivedAt: ContinuousClock.Instant) -> Bool { bucket.take(at: receivedAt) }

    /// Spends one `voice:signal` of `bytes` from the socket's signal budgets; false when either is exhausted.
    func admitSignal(bytes: Int, receivedAt: ContinuousClock.Instant) -> Bool {
        guard signalBytes.take(Double(bytes), at: receivedAt) else { return false }
        return signals.take(at: receivedAt)
    }

    // MARK: Rooms

    var joinedRooms: [String] { Array(rooms) }

    func hasJoined(_ roomID: String) -> Bool { rooms.contains(roomID) }

    /// Marks a room open on this socket; false when it already was.
    func open(_ roomID: String) -> Bool {
        rooms.insert(roomID).inserted
    }

    /// Marks a room closed on this socket and ends typing there. `wasOpen` is true for exactly one
    /// of several racing calls, so what follows a close happens once.
    func close(_ roomID: String) -> (wasOpen: Bool, wasTyping: Bool) {
        guard rooms.remove(roomID) != nil else { return (false, false) }
        guard let entry = typing.removeValue(forKey: roomID) else { return (true, false) }
        entry.timer.cancel()
        return (true, true)
    }

    // MARK: Voice

    /// The socket's voice session, if it has one.
    nonisolated var voiceSeat: VoiceSeat? { seat.withLock { $0 } }

    /// Takes the socket's voice session; returns the one it had.
    nonisolated func seat(_ new: VoiceSeat) -> VoiceSeat? {
        seat.withLock { seat in
            defer { seat = new }
            return seat
        }
    }

    /// Gives up the voice session if it matches (in `roomID`, or with `sessionID`); returns it.
    nonisolated func unseat(inRoom roomID: String? = nil, session sessionID: String? = nil) -> VoiceSeat? {
        seat.withLock { seat in
            guard let current = seat, roomID.map({ $0 == current.roomId }) ?? true,
                sessionID.map({ $0 == current.sessionId }) ?? true
            else { return nil }
            seat = nil
            return current
        }
    }

    /// Asks for a speaking state: applied at once unless the last one was applied less than
    /// `window` ago, else when the window ends, with the latest state asked for by then (so a
    /// chattering voice detector costs at most one change per window, and the last word is kept).
    func requestSpeaking(_ value: Bool, session sessionID: String, window: Duration, apply: @escaping @Sendable (Bool) async -> Void) {
        if speaking.sessionID != sessionID {
            speaking.pending?.cancel()
            speaking = SpeakingGate(sessionID: sessionID)
        }
        speaking.desired = value
        guard speaking.pending == nil else { return }
        let now = ContinuousClock.now
        let due = speaking.lastApplied.map { $0 + window } ?? now
        speaking.pending = Task {
            if due > now { try? await Task.sleep(until: due, clock: .continuous) }
            guard !Task.isCancelled, let value = self.takeSpeaking(sessionID) else { return }
            await apply(value)
        }
    }

    private func takeSpeaking(_ sessionID: String) -> Bool? {
        guard speaking.sessionID == sessionID else { return nil }
        speaking.pending = nil
        guard speaking.desired != speaking.applied else { return nil }
        speaking.applied = speaking.desired
        speaking.lastApplied = .now
        return speaking.applied
    }

    /// Ends the speaking throttle (the voice session ended).
    func stopSpeaking() {
        speaking.pending?.cancel()
        speaking = SpeakingGate()
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
