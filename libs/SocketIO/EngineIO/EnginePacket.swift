/// The kinds of Engine.IO v4 packets.
public enum EnginePacketType: UInt8, Sendable {
    case open = 0
    case close = 1
    case ping = 2
    case pong = 3
    case message = 4
    case upgrade = 5
    case noop = 6
}

/// The data of an Engine.IO message: text, or bytes.
public enum EngineData: Sendable, Hashable {
    case text(String)
    case binary([UInt8])

    /// Size in bytes, as counted against `maxPayload`.
    var byteCount: Int {
        switch self {
        case .text(let text): return text.utf8.count
        case .binary(let bytes): return bytes.count
        }
    }
}

/// One Engine.IO packet.
public struct EnginePacket: Sendable, Hashable {
    public var type: EnginePacketType
    /// Text or bytes after the type (for `message`, the data; for `ping`/`pong`, "probe" or nothing).
    public var data: EngineData?

    public init(_ type: EnginePacketType, _ data: EngineData? = nil) {
        self.type = type
        self.data = data
    }

    /// A `message` packet.
    public static func message(_ data: EngineData) -> EnginePacket {
        EnginePacket(.message, data)
    }

    /// Size in bytes, as counted against a client's queue bound (the type digit and the data).
    var byteCount: Int { 1 + (data?.byteCount ?? 0) }
}

/// Why bytes from a client are not Engine.IO.
public struct EngineDecodingError: Error, Sendable, Equatable {
    public let reason: String
}

/// Engine.IO v4 encoding: one packet per WebSocket frame, and `\u{1e}`-separated payloads for
/// HTTP long-polling (binary as `b` + base64).
public enum EngineCodec {
    /// The record separator between packets of a polling payload.
    public static let separator: Character = "\u{1e}"

    // MARK: WebSocket frames

    /// A WebSocket frame for `packet`: text frames carry the type digit; a binary message is the
    /// raw bytes of a binary frame.
    public static func webSocketFrame(for packet: EnginePacket) -> EngineData {
        if case .binary(let bytes) = packet.data, packet.type == .message { return .binary(bytes) }
        return .text(text(of: packet))
    }

    /// The packet of a WebSocket frame.
    public static func packet(fromWebSocketFrame frame: EngineData) throws(EngineDecodingError) -> EnginePacket {
        switch frame {
        case .binary(let bytes): return .message(.binary(bytes))
        case .text(let text): return try packet(fromText: Substring(text))
        }
    }

    // MARK: Polling payloads

    /// The body of a polling response carrying `packets`.
    public static func pollingPayload(_ packets: [EnginePacket]) -> String {
        var output = ""
        for (index, packet) in packets.enumerated() {
            if index > 0 { output.append(separator) }
            if case .binary(let bytes) = packet.data, packet.type == .message {
                output += "b"
                output += Base64.encode(bytes)
            } else {
                output += text(of: packet)
            }
        }
        return output
    }

    /// The packets of a polling request body.
    public static func packets(fromPollingPayload payload: String) throws(EngineDecodingError) -> [EnginePacket] {
        guard !payload.isEmpty else { throw EngineDecodingError(reason: "empty payload") }
        var packets: [EnginePacket] = []
        for part in payload.split(separator: separator, omittingEmptySubsequences: false) {
            if part.first == "b" {
                guard let bytes = Base64.decode(part.dropFirst()) else {
                    throw EngineDecodingError(reason: "invalid base64")
                }
                packets.append(.message(.binary(bytes)))
            } else {
                packets.append(try packet(fromText: part))
            }
        }
        return packets
    }

    // MARK: Text form

    static func text(of packet: EnginePacket) -> String {
        let digit = String(packet.type.rawValue)
        switch packet.data {
        case .text(let text)?: return digit + text
        case .binary(let bytes)?: return digit + Base64.encode(bytes)
        case nil: return digit
        }
    }

    static func packet(fromText text: Substring) throws(EngineDecodingError) -> EnginePacket {
        guard let first = text.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6"),
            let type = EnginePacketType(rawValue: first - UInt8(ascii: "0"))
        else {
            throw EngineDecodingError(reason: "unknown packet type")
        }
        let rest = text.dropFirst()
        switch type {
        case .message:
            return .message(.text(String(rest)))
        case .ping, .pong:
            return EnginePacket(type, rest.isEmpty ? nil : .text(String(rest)))
        case .open, .close, .upgrade, .noop:
            return EnginePacket(type)
        }
    }
}
