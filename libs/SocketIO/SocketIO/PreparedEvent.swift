/// A Socket.IO event encoded once, to be written to many sockets: every socket is handed the
/// same bytes, with no per-socket encoding.
///
/// ```swift
/// let frame = PreparedEvent("message:received", json: #"{"id":"...","seq":7}"#)
/// for socket in sockets { socket.emit(frame) }
/// ```
public struct PreparedEvent: Sendable {
    /// The event's name.
    public let name: String
    let message: EnginePreparedMessage

    /// An event whose single argument is `json`, a JSON text the caller already encoded (it must
    /// be valid JSON without binary placeholders).
    public init(_ name: String, json argument: String, namespace: String = "/") {
        self.name = name
        var text = "2"
        if namespace != "/" { text += namespace + "," }
        text += "["
        SocketIOValue.writeJSONString(name, into: &text)
        text += ","
        text += argument
        text += "]"
        self.message = EnginePreparedMessage(.text(text))
    }

    /// An event with `arguments`, which must hold no binary value (binary events are sent with
    /// ``Socket/emit(_:_:)``, attachments and all).
    public init(_ name: String, _ arguments: [SocketIOValue], namespace: String = "/") {
        precondition(!arguments.contains(where: \.containsBinary), "a prepared event carries no binary attachments")
        self.name = name
        let encoded = SocketIOPacket.event(name, arguments, namespace: namespace).encoded()
        self.message = EnginePreparedMessage(encoded[0])
    }

    /// The Socket.IO packet's text, as it goes on the wire inside an Engine.IO message.
    public var text: String {
        guard case .text(let text) = message.data else { return "" }
        return text
    }

    /// Bytes on the wire.
    public var byteCount: Int { message.data.byteCount }
}
