import VoiceFlowCommon
import VoiceFlowSocketIO

/// Settings of a gateway: the shared ones plus where the other services answer, Socket.IO timing
/// and limits, and presence timing.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 8101 | listen port |
/// | `ROOMS_URL` | http://127.0.0.1:3002 | the rooms service |
/// | `MESSAGES_URL` | http://127.0.0.1:3003 | the messages service |
/// | `SIGNALING_URL` | http://127.0.0.1:3005 | the signaling service (voice) |
/// | `GATEWAY_ID` | random | this gateway's name in presence records |
/// | `HEALTH_PORT` | none | also answer `/health` and `/ready` on this port, on a thread of their own (for the edge's checks) |
/// | `SOCKET_PING_INTERVAL_MS` | 25000 | Engine.IO ping interval |
/// | `SOCKET_PING_TIMEOUT_MS` | 20000 | Engine.IO ping timeout |
/// | `SOCKET_MAX_PAYLOAD` | 98304 | largest packet accepted from a client, bytes (room for a 64 KiB `voice:signal`; a larger packet closes the connection) |
/// | `VOICE_SPEAKING_WINDOW_MS` | 200 | `voice:speaking` changes one socket makes public at most once per this window (the latest wins) |
/// | `SOCKET_EVENTS_PER_SECOND` | 20 | events one socket may send per second (bursts of twice that), `voice:signal` aside |
/// | `SOCKET_SIGNALS_PER_SECOND` | 50 | `voice:signal`s one socket may send per second (bursts of four times that) |
/// | `SOCKET_SIGNAL_BYTES_PER_SECOND` | 262144 | bytes of `voice:signal` data one socket may send per second (bursts of four times that) |
/// | `PRESENCE_TTL_SECONDS` | 10 | a gateway that stops heartbeating for this long is dead; its users go offline |
/// | `PRESENCE_RECONCILE_SECONDS` | 15 | how often a gateway compares its presence records with its sockets and repairs drift (a difference seen twice in a row) |
/// | `MEMBERSHIP_RECHECK_SECONDS` | 60 | how often a gateway re-checks with the rooms service that the sockets in each open room are still members (also soon after a room missed messages) |
/// | `TYPING_TIMEOUT_SECONDS` | 5 | typing ends on its own after this long without `typing:start` |
/// | `SOCKET_MAX_BUFFERED_BYTES` | 2097152 | bytes queued for one socket before it is cut off as a slow consumer (`SLOW_CONSUMER`) |
/// | `STREAM_REORDER_WAIT_MS` | 10 | how long a room's stream waits for a message that is missing before it fetches it |
/// | `STREAM_RECENT_MESSAGES` | 256 | recent messages a room's stream keeps to catch joining sockets up without a fetch |
/// | `STREAM_FLUSH_WINDOW_MS` | 25 | shortest time between two writes of a busy room's live messages to its sockets (0: each at once) |
/// | `SOCKET_CONNECT_TIMEOUT_MS` | 10000 | how long a new connection has to send its Socket.IO CONNECT |
/// | `SOCKET_MAX_PENDING_SESSIONS` | 4096 | sessions handshaken but silent (no CONNECT yet) at once; past it, 503 + `Retry-After` |
/// | `SOCKET_MAX_PENDING_PER_ADDRESS` | 128 | the same per client address; past it, 429 |
/// | `SOCKET_HANDSHAKES_PER_SECOND` | 400 | new sessions admitted per second (0: unmetered); past it and its burst, 503 + `Retry-After` |
/// | `SOCKET_HANDSHAKE_BURST` | 800 | new sessions admitted at once above that rate |
/// | `SOCKET_CONNECT_BURST` | 10 | Socket.IO CONNECTs one connection may send at once (then one per 5 s); past it, CONNECT_ERROR and close |
public struct GatewayConfiguration: Sendable {
    public var service: ServiceConfiguration
    public var roomsURL: String
    public var messagesURL: String
    public var signalingURL: String
    /// How often one socket's `voice:speaking` changes are made public at most.
    public var speakingWindow: Duration
    public var gatewayID: String
    /// Where `/health` and `/ready` are also served on a thread of their own, if anywhere.
    public var healthPort: Int?
    public var socket: SocketIOConfiguration
    /// What one socket may send.
    var budget: ChatSession.Budget
    public var presenceTTL: Duration
    public var presenceReconcilePeriod: Duration
    public var membershipRecheckPeriod: Duration
    public var typingTimeout: Duration
    /// Each room's stream of messages on this gateway.
    var stream: RoomStream.Settings

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 8101)
        self.roomsURL = environment.string("ROOMS_URL", default: "http://127.0.0.1:3002")
        self.messagesURL = environment.string("MESSAGES_URL", default: "http://127.0.0.1:3003")
        self.signalingURL = environment.string("SIGNALING_URL", default: "http://127.0.0.1:3005")
        self.speakingWindow = .milliseconds(try environment.int("VOICE_SPEAKING_WINDOW_MS", default: 200, in: 0...10_000))
        self.gatewayID = environment.string("GATEWAY_ID") ?? "gw-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        self.healthPort = environment.string("HEALTH_PORT") == nil ? nil : try environment.int("HEALTH_PORT", default: 0, in: 1...65_535)
        var socket = SocketIOConfiguration()
        socket.engine.pingInterval = .milliseconds(try environment.int("SOCKET_PING_INTERVAL_MS", default: 25_000, in: 100...300_000))
        socket.engine.pingTimeout = .milliseconds(try environment.int("SOCKET_PING_TIMEOUT_MS", default: 20_000, in: 100...300_000))
        socket.engine.maxPayload = try environment.int("SOCKET_MAX_PAYLOAD", default: 98_304, in: 1024...10_000_000)
        socket.engine.cors = .origins(service.allowedOrigins)
        socket.connectTimeout = .milliseconds(try environment.int("SOCKET_CONNECT_TIMEOUT_MS", default: 10_000, in: 100...300_000))
        socket.engine.trustsForwardedFor = service.trustProxy
        var handshakes = HandshakeLimits()
        handshakes.maxPending = try environment.int("SOCKET_MAX_PENDING_SESSIONS", default: 4096, in: 1...10_000_000)
        handshakes.maxPendingPerAddress = try environment.int("SOCKET_MAX_PENDING_PER_ADDRESS", default: 128, in: 1...10_000_000)
        handshakes.perSecond = try environment.int("SOCKET_HANDSHAKES_PER_SECOND", default: 400, in: 0...1_000_000)
        handshakes.burst = try environment.int("SOCKET_HANDSHAKE_BURST", default: 800, in: 0...10_000_000)
        socket.engine.handshakeLimits = handshakes
        socket.connectBurst = try environment.int("SOCKET_CONNECT_BURST", default: 10, in: 1...10_000)
        socket.engine.maxBufferedBytes = try environment.int(
            "SOCKET_MAX_BUFFERED_BYTES", default: 2 * 1024 * 1024, in: 16 * 1024...256 * 1024 * 1024)
        socket.engine.slowConsumerNotice = .text(
            PreparedEvent(.error(ErrorBody(code: ErrorCode.slowConsumer.rawValue, message: "Too far behind; reconnect to catch up"))).text)
        self.socket = socket
        var budget = ChatSession.Budget()
        budget.eventsPerSecond = try environment.int("SOCKET_EVENTS_PER_SECOND", default: 20, in: 1...10_000)
        budget.signalsPerSecond = try environment.int("SOCKET_SIGNALS_PER_SECOND", default: 50, in: 1...10_000)
        budget.signalBytesPerSecond = try environment.int(
            "SOCKET_SIGNAL_BYTES_PER_SECOND", default: 256 * 1024, in: VoiceSignalRequest.maxDataBytes...100 * 1024 * 1024)
        self.budget = budget
        self.presenceTTL = .seconds(try environment.int("PRESENCE_TTL_SECONDS", default: 10, in: 2...3600))
        self.presenceReconcilePeriod = .seconds(try environment.int("PRESENCE_RECONCILE_SECONDS", default: 15, in: 1...3600))
        self.membershipRecheckPeriod = .seconds(try environment.int("MEMBERSHIP_RECHECK_SECONDS", default: 60, in: 1...86_400))
        self.typingTimeout = .seconds(try environment.int("TYPING_TIMEOUT_SECONDS", default: 5, in: 1...60))
        var stream = RoomStream.Settings()
        stream.reorderWait = .milliseconds(try environment.int("STREAM_REORDER_WAIT_MS", default: 10, in: 0...10_000))
        stream.recentCapacity = try environment.int("STREAM_RECENT_MESSAGES", default: 256, in: 0...100_000)
        stream.flushWindow = .milliseconds(try environment.int("STREAM_FLUSH_WINDOW_MS", default: 25, in: 0...1_000))
        self.stream = stream
    }
}
