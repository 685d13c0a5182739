import Synchronization

/// Limits on new Engine.IO sessions, so that a flood of handshakes (abandoned or not) cannot
/// degrade the sessions already open.
public struct HandshakeLimits: Sendable, Equatable {
    /// Sessions opened whose client has not sent a message yet, in total. Past it, handshakes
    /// are answered 503 with `Retry-After`.
    public var maxPending = 4096
    /// The same, per client address. Past it, that address is answered 429.
    public var maxPendingPerAddress = 128
    /// New sessions admitted per second, sustained (0: no rate limit). Past it (and its burst),
    /// handshakes are answered 503 with `Retry-After` instead of stalling everyone else.
    public var perSecond = 0
    /// New sessions admitted at once above the sustained rate.
    public var burst = 0

    public init() {}
}

/// Why a handshake was turned away.
public enum HandshakeRefusal: Error, Sendable, Equatable {
    /// This client address has too many silent sessions open.
    case tooManyFromAddress
    /// The server admits no more new sessions right now; retry after the given seconds.
    case busy(retryAfterSeconds: Int)

    /// The HTTP status of the refusal.
    public var httpStatus: Int {
        switch self {
        case .tooManyFromAddress: return 429
        case .busy: return 503
        }
    }

    /// The response headers besides the content type.
    var headers: [(String, String)] {
        switch self {
        case .tooManyFromAddress: return [("Retry-After", "1")]
        case .busy(let seconds): return [("Retry-After", String(seconds))]
        }
    }

    /// The WebSocket close code a refused WebSocket handshake is closed with (1008 policy
    /// violation; 1013 try again later) and its reason.
    var webSocketClose: (code: UInt16, reason: String) {
        switch self {
        case .tooManyFromAddress: return (1008, "Too many pending sessions from this address")
        case .busy: return (1013, "Too many new sessions; retry shortly")
        }
    }

    /// The JSON body, in the shape of Engine.IO's error answers.
    var body: String {
        switch self {
        case .tooManyFromAddress: return #"{"code":4,"message":"Too many pending sessions from this address"}"#
        case .busy: return #"{"code":4,"message":"Too many new sessions; retry shortly"}"#
        }
    }
}

/// Admits new sessions within ``HandshakeLimits``: counts silent sessions (in total and per
/// address) and meters the rate of new ones with a token bucket.
///
/// A session is *pending* from its handshake until its client sends the first message (for
/// Socket.IO, its CONNECT) or it closes, whichever comes first; its ``PendingTicket`` ends it.
final class HandshakeAdmission: Sendable {
    private struct State {
        var pending = 0
        var pendingByAddress: [String: Int] = [:]
        /// New sessions admitted per second; `nil` when unlimited.
        var rate: TokenBucket?
    }

    let limits: HandshakeLimits
    private let state: Mutex<State>

    init(limits: HandshakeLimits) {
        self.limits = limits
        let rate = limits.perSecond > 0
            ? TokenBucket(rate: Double(limits.perSecond), burst: Double(max(limits.burst, limits.perSecond))) : nil
        self.state = Mutex(State(rate: rate))
    }

    /// Silent sessions open now.
    var pendingCount: Int { state.withLock { $0.pending } }

    /// Admits a handshake from `address`: a ticket to hand to the new session, or why not.
    func admit(address: String?) -> Result<PendingTicket, HandshakeRefusal> {
        let key = Self.key(address)
        let refused = state.withLock { state -> HandshakeRefusal? in
            if let refusal = refusal(address: key, state: &state) { return refusal }
            state.pending += 1
            state.pendingByAddress[key, default: 0] += 1
            return nil
        }
        if let refused { return .failure(refused) }
        return .success(PendingTicket(address: key, admission: self))
    }

    fileprivate func release(address: String) {
        state.withLock { state in
            state.pending -= 1
            let left = (state.pendingByAddress[address] ?? 1) - 1
            state.pendingByAddress[address] = left > 0 ? left : nil
        }
    }

    /// Why a handshake from `address` is refused now; when it is not, its share of the rate is taken.
    private func refusal(address: String, state: inout State) -> HandshakeRefusal? {
        if (state.pendingByAddress[address] ?? 0) >= limits.maxPendingPerAddress { return .tooManyFromAddress }
        if state.pending >= limits.maxPending { return .busy(retryAfterSeconds: 1) }
        guard var rate = state.rate else { return nil }
        defer { state.rate = rate }
        return rate.take() ? nil : .busy(retryAfterSeconds: rate.secondsUntilNextToken)
    }

    private static func key(_ address: String?) -> String { address ?? "" }
}

/// A pending session's place in ``HandshakeAdmission``; given back once, by whichever of the
/// session's first message and its close comes first.
final class PendingTicket: Sendable {
    private let address: String
    private let admission: HandshakeAdmission
    private let released = Atomic<Bool>(false)

    fileprivate init(address: String, admission: HandshakeAdmission) {
        self.address = address
        self.admission = admission
    }

    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        admission.release(address: address)
    }
}
