/// Settings of an Engine.IO server.
public struct EngineConfiguration: Sendable {
    /// How often the server pings each client.
    public var pingInterval: Duration = .seconds(25)
    /// How long a client has to answer a ping before its session is closed.
    public var pingTimeout: Duration = .seconds(20)
    /// Largest packet (WebSocket) or payload (polling request body) accepted, in bytes.
    public var maxPayload: Int = 1_000_000
    /// How long a WebSocket that probed a polling session has to complete the upgrade.
    public var upgradeTimeout: Duration = .seconds(10)
    /// Bytes queued for one client before it counts as a slow consumer and is disconnected (one
    /// packet larger than this still goes out when nothing else waits).
    public var maxBufferedBytes: Int = 2 * 1024 * 1024
    /// A message sent, past the bound, to a client cut off as a slow consumer, just before the
    /// `close` packet (a Socket.IO server puts an `error` event here, so the client learns why).
    public var slowConsumerNotice: EngineData?
    /// Packets from one client waiting to be handled before it is disconnected as too fast.
    public var maxPendingInboundPackets: Int = 256
    /// Bounds on new sessions: silent ones in total and per address, and the rate of new ones.
    public var handshakeLimits = HandshakeLimits()
    /// Whether the client address (for per-address limits) is the last `X-Forwarded-For` entry,
    /// the one a proxy in front appended; otherwise it is the TCP peer.
    public var trustsForwardedFor = false
    /// Transports clients may use.
    public var allowsPolling = true
    public var allowsWebSocket = true
    /// Which browser origins may use the polling transport.
    public var cors: CORSPolicy = .sameOriginOnly

    public init() {}

    /// Milliseconds, as the handshake states durations.
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

/// Which origins may call the polling transport from a browser.
public enum CORSPolicy: Sendable, Equatable {
    /// Any origin (`Access-Control-Allow-Origin: *`, no credentials).
    case anyOrigin
    /// These exact origins (echoed back, with credentials).
    case origins([String])
    /// No CORS headers: only same-origin pages can read responses.
    case sameOriginOnly

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    func allowedOrigin(for origin: String?) -> String? {
        switch self {
        case .anyOrigin: return "*"
        case .origins(let origins):
            guard let origin, origins.contains(origin) else { return nil }
            return origin
        case .sameOriginOnly: return nil
        }
    }
}
