import OrderedCollections

/// The kinds of Socket.IO v5 packets.
public enum SocketIOPacketType: UInt8, Sendable {
    case connect = 0
    case disconnect = 1
    case event = 2
    case ack = 3
    case connectError = 4
    case binaryEvent = 5
    case binaryAck = 6
}

/// One Socket.IO v5 packet: `<type>[<attachments>-][<namespace>,][<id>][<JSON data>]`.
public struct SocketIOPacket: Sendable, Hashable {
    public var type: SocketIOPacketType
    public var namespace: String
    /// The acknowledgement id (events that want an ack, and acks).
    public var id: Int?
    public var data: SocketIOValue?

    public init(type: SocketIOPacketType, namespace: String = "/", id: Int? = nil, data: SocketIOValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.id = id
        self.data = data
    }

    /// An event: `name` followed by `arguments`.
    public static func event(_ name: String, _ arguments: [SocketIOValue], namespace: String = "/", id: Int? = nil) -> SocketIOPacket {
        SocketIOPacket(type: .event, namespace: namespace, id: id, data: .array([.string(name)] + arguments))
    }

    /// Event names the protocol reserves; a client may not emit them.
    static let reservedEvents: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The Engine.IO messages of this packet: its text, then one binary message per attachment.
    /// Events and acks with binary values become BINARY_EVENT/BINARY_ACK.
    public func encoded() -> [EngineData] {
        var attachments: [[UInt8]] = []
        let json = data.map { value -> String in
            var output = ""
            Self.writeDeconstructed(value, attachments: &attachments, into: &output)
            return output
        }
        var type = self.type
        if !attachments.isEmpty {
            if type == .event { type = .binaryEvent }
            if type == .ack { type = .binaryAck }
        }
        var text = String(type.rawValue)
        if type == .binaryEvent || type == .binaryAck { text += "\(attachments.count)-" }
        if namespace != "/" { text += namespace + "," }
        if let id { text += String(id) }
        if let json { text += json }
        return [.text(text)] + attachments.map { .binary($0) }
    }

    /// JSON with each binary value replaced by `{"_placeholder":true,"num":N}` (in that key order,
    /// as every implementation writes it).
    private static func writeDeconstructed(_ value: SocketIOValue, attachments: inout [[UInt8]], into output: inout String) {
        switch value {
        case .binary(let bytes):
            output += "{\"_placeholder\":true,\"num\":\(attachments.count)}"
            attachments.append(bytes)
        case .array(let values):
            output += "["
            for (index, element) in values.enumerated() {
                if index > 0 { output += "," }
                writeDeconstructed(element, attachments: &attachments, into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                SocketIOValue.writeJSONString(member.key, into: &output)
                output += ":"
                writeDeconstructed(member.value, attachments: &attachments, into: &output)
            }
            output += "}"
        default:
            value.writeJSON(into: &output)
        }
    }
}

/// Why a packet from a client is refused (the connection is then closed, as the spec says).
public struct SocketIOPacketError: Error, Sendable, Equatable {
    public let reason: String
}

/// Reassembles packets from Engine.IO messages, binary attachments included. One per connection.
public struct SocketIOPacketDecoder: Sendable {
    /// Most attachments one packet may announce.
    public static let maxAttachments = 10

    private var pending: (packet: SocketIOPacket, expected: Int, attachments: [[UInt8]])?

    public init() {}

    /// Feeds one message; returns a packet once one is complete.
    public mutating func decode(_ message: EngineData) throws(SocketIOPacketError) -> SocketIOPacket? {
        switch message {
        case .binary(let bytes):
            guard var pending else { throw SocketIOPacketError(reason: "unexpected binary attachment") }
            pending.attachments.append(bytes)
            guard pending.attachments.count == pending.expected else {
                self.pending = pending
                return nil
            }
            self.pending = nil
            var packet = pending.packet
            packet.data = try packet.data.map { value throws(SocketIOPacketError) in
                try Self.reconstruct(value, attachments: pending.attachments)
            }
            return packet
        case .text(let text):
            guard pending == nil else { throw SocketIOPacketError(reason: "text received while awaiting attachments") }
            let (packet, attachments) = try Self.parse(text)
            if attachments > 0 {
                pending = (packet, attachments, [])
                return nil
            }
            return packet
        }
    }

    static func parse(_ text: String) throws(SocketIOPacketError) -> (SocketIOPacket, attachments: Int) {
        var bytes = Array(text.utf8)
        guard let first = bytes.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6"),
            let type = SocketIOPacketType(rawValue: first - UInt8(ascii: "0"))
        else { throw SocketIOPacketError(reason: "unknown packet type") }
        var index = 1
        var attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start, index - start <= 3, index < bytes.count, bytes[index] == UInt8(ascii: "-"),
                let count = Int(String(decoding: bytes[start..<index], as: UTF8.self)), count >= 1,
                count <= maxAttachments
            else { throw SocketIOPacketError(reason: "invalid attachment count") }
            attachments = count
            index += 1
        }
        var namespace = "/"
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") { index += 1 }
            namespace = String(decoding: bytes[start..<index], as: UTF8.self)
            if index < bytes.count { index += 1 }  // the comma
        }
        var id: Int?
        let idStart = index
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        if index > idStart {
            guard index - idStart <= 15 else { throw SocketIOPacketError(reason: "invalid ack id") }
            id = Int(String(decoding: bytes[idStart..<index], as: UTF8.self))
        }
        var data: SocketIOValue?
        if index < bytes.count {
            var rest = Array(bytes[index...])
            bytes = []
            do {
                data = try SocketIOValue.parseJSON(bytes: &rest)
            } catch {
                throw SocketIOPacketError(reason: "invalid JSON")
            }
        }
        let packet = SocketIOPacket(type: type, namespace: namespace, id: id, data: data)
        guard isValid(packet) else { throw SocketIOPacketError(reason: "invalid payload") }
        return (packet, attachments)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The payload rules of the spec, per packet type.
    static func isValid(_ packet: SocketIOPacket) -> Bool {
        switch packet.type {
        case .connect:
            switch packet.data {
            case nil, .object?: return true
            default: return false
            }
        case .disconnect:
            return packet.data == nil
        case .connectError:
            switch packet.data {
            case .string?, .object?: return true
            default: return false
            }
        case .event, .binaryEvent:
            guard case .array(let values)? = packet.data, let name = values.first else { return false }
            switch name {
            case .string(let name): return !SocketIOPacket.reservedEvents.contains(name)
            case .int: return true
            default: return false
            }
        case .ack, .binaryAck:
            guard case .array? = packet.data else { return false }
            return packet.id != nil
        }
    }

    /// Puts the attachments back where their placeholders are.
    static func reconstruct(_ value: SocketIOValue, attachments: [[UInt8]]) throws(SocketIOPacketError) -> SocketIOValue {
        switch value {
        case .object(let members):
            if members.count == 2, members["_placeholder"] == .bool(true), let number = members["num"] {
                guard let index = number.intValue, attachments.indices.contains(index) else {
                    throw SocketIOPacketError(reason: "invalid attachment placeholder")
                }
                return .binary(attachments[index])
            }
            var rebuilt = OrderedDictionary<String, SocketIOValue>()
            rebuilt.reserveCapacity(members.count)
            for (key, member) in members {
                rebuilt[key] = try reconstruct(member, attachments: attachments)
            }
            return .object(rebuilt)
        case .array(let values):
            var rebuilt: [SocketIOValue] = []
            rebuilt.reserveCapacity(values.count)
            for element in values {
                rebuilt.append(try reconstruct(element, attachments: attachments))
            }
            return .array(rebuilt)
        default:
            return value
        }
    }
}
