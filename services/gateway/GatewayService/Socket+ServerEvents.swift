import VoiceFlowCommon
import VoiceFlowSocketIO

extension Socket {
    /// Sends a server event of the socket protocol to this client.
    func emit(_ event: ServerEventName, _ arguments: [SocketIOValue]) {
        emit(event.rawValue, arguments)
    }

    /// Handles a client event of the socket protocol.
    func on(_ event: ClientEventName, _ handler: @escaping EventHandler) {
        on(event.rawValue, handler)
    }
}

extension BroadcastOperator {
    /// Sends a server event of the socket protocol to the selected sockets, on every node.
    func emit(_ event: ServerEventName, _ arguments: [SocketIOValue]) async {
        await emit(event.rawValue, arguments)
    }
}

extension PreparedEvent {
    /// A server event of the socket protocol whose single argument is already-encoded JSON.
    init(_ event: ServerEventName, json argument: String) {
        self.init(event.rawValue, json: argument)
    }

    /// A server event of the socket protocol with `arguments` (no binary values).
    init(_ event: ServerEventName, _ arguments: [SocketIOValue]) {
        self.init(event.rawValue, arguments)
    }
}
