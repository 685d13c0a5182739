import Foundation
import VoiceFlowCommon
import VoiceFlowSocketIO

extension ServerEvent {
    /// The payload as a Socket.IO value (for broadcasts that other gateways relay).
    var value: SocketIOValue {
        (try? SocketIOValue(encoding: payload, encoder: WireDateCoding.encoder())) ?? .null
    }
}

extension Socket {
    /// Sends a server event of the socket protocol to this client.
    func emit(_ event: ServerEvent) {
        emit(event.name.rawValue, [event.value])
    }
}

extension BroadcastOperator {
    /// Sends a server event of the socket protocol to the selected sockets, on every node.
    func emit(_ event: ServerEvent) async {
        await emit(event.name.rawValue, [event.value])
    }
}

extension PreparedEvent {
    /// A server event of the socket protocol, encoded once (straight from its payload to JSON).
    init(_ event: ServerEvent, encoder: JSONEncoder = WireDateCoding.encoder()) {
        let json = (try? encoder.encode(event.payload)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        self.init(event.name.rawValue, json: json)
    }
}
