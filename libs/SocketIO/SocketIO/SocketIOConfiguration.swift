import OrderedCollections

/// Settings of a Socket.IO server.
public struct SocketIOConfiguration: Sendable {
    /// The Engine.IO settings underneath.
    public var engine = EngineConfiguration()
    /// How long a new connection has to join a namespace before it is closed.
    public var connectTimeout: Duration = .seconds(45)
    /// Default time a server-to-client acknowledgement is awaited.
    public var ackTimeout: Duration = .seconds(10)
    /// Events from one connection waiting to be handled before it is closed as too fast.
    public var maxPendingEvents = 256
    /// Namespace CONNECTs one connection may send at once; past it (and ``connectsPerSecond``),
    /// the client gets CONNECT_ERROR and the connection is closed.
    public var connectBurst = 10
    /// Namespace CONNECTs one connection may send per second, sustained.
    public var connectsPerSecond = 0.2

    public init() {}
}

/// Why a socket left its namespace. The raw values are Socket.IO's reason strings.
public enum SocketDisconnectReason: String, Sendable {
    /// The server disconnected the socket.
    case serverDisconnect = "io server disconnect"
    /// The client disconnected the socket (or its whole connection).
    case clientDisconnect = "io client disconnect"
    case pingTimeout = "ping timeout"
    case transportClose = "transport close"
    case transportError = "transport error"
    case parseError = "parse error"
    case serverShuttingDown = "server shutting down"
    /// The connection was closed for sending too fast or reading too slowly.
    case forcedClose = "forced close"

    init(_ reason: EngineCloseReason?) {
        switch reason {
        case .transportClose?: self = .transportClose
        case .transportError?: self = .transportError
        case .pingTimeout?: self = .pingTimeout
        case .parseError?: self = .parseError
        case .slowConsumer?: self = .forcedClose
        case .serverShutdown?: self = .serverShuttingDown
        case .serverClose?, nil: self = .serverDisconnect
        }
    }
}

/// Refuses a connection from a namespace middleware: the client receives CONNECT_ERROR
/// `{"message": message, "data": data}`.
public struct SocketIOConnectError: Error, Sendable {
    public var message: String
    public var data: SocketIOValue?

    public init(_ message: String, data: SocketIOValue? = nil) {
        self.message = message
        self.data = data
    }

    var payload: SocketIOValue {
        var object: SocketIOValue = ["message": .string(message)]
        if let data, case .object(var members) = object {
            members["data"] = data
            object = .object(members)
        }
        return object
    }
}

/// Why a server-to-client acknowledgement did not arrive.
public enum SocketIOAckError: Error, Sendable, Equatable {
    /// The client did not answer in time.
    case timeout
    /// The socket disconnected first.
    case disconnected
}
