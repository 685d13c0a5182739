/// The errors an Engine.IO server answers to a bad HTTP request, with the protocol's codes.
public enum EngineRequestError: Int, Error, Sendable {
    case unknownTransport = 0
    case unknownSessionID = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case forbidden = 4
    case unsupportedProtocolVersion = 5

    /// The protocol's message for this code.
    public var message: String {
        switch self {
        case .unknownTransport: return "Transport unknown"
        case .unknownSessionID: return "Session ID unknown"
        case .badHandshakeMethod: return "Bad handshake method"
        case .badRequest: return "Bad request"
        case .forbidden: return "Forbidden"
        case .unsupportedProtocolVersion: return "Unsupported protocol version"
        }
    }

    /// The HTTP status it is answered with.
    public var httpStatus: Int { self == .forbidden ? 403 : 400 }

    /// The JSON body: `{"code":N,"message":"..."}`.
    public var body: String { "{\"code\":\(rawValue),\"message\":\"\(message)\"}" }
}

/// Why an Engine.IO session ended.
public enum EngineCloseReason: String, Sendable {
    /// The client closed the transport (WebSocket closed, or the client sent `close`).
    case transportClose = "transport close"
    /// The transport failed.
    case transportError = "transport error"
    /// The client did not answer a ping in time.
    case pingTimeout = "ping timeout"
    /// The client sent something that is not Engine.IO or exceeded `maxPayload`.
    case parseError = "parse error"
    /// The client's queue of outgoing packets overflowed, or it sent packets faster than handled.
    case slowConsumer = "slow consumer"
    /// The server closed the session.
    case serverClose = "server close"
    /// The server is shutting down.
    case serverShutdown = "server shutting down"
}
