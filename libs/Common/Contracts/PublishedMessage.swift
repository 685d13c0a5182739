/// A `message.created` ``RoomEvent`` read without decoding its message: what a gateway needs to
/// put the message in order and write it to sockets as it was published. The message's JSON is
/// passed on as the publisher encoded it (a ``MessageDTO`` through ``WireDateCoding``), so a
/// gateway neither decodes nor re-encodes it.
public struct PublishedMessage: Sendable, Equatable {
    /// The message's sequence number (`nil` in a room that records nothing).
    public let seq: Int?
    /// The message, a ``MessageDTO`` as JSON text, exactly as published.
    public let json: String
    /// When it was published (``RoomEvent/publishedAt``).
    public let publishedAt: Double?

    /// Reads `payload`, a ``RoomEvent`` as ``EventPublisher`` publishes it. `nil` unless it is a
    /// well-formed `message.created` event of the current version that carries a message object.
    public init?(roomEvent payload: [UInt8]) {
        guard let members = JSONObjectScanner.members(of: payload),
            let type = JSONObjectScanner.value(of: "type", in: members),
            payload[type].elementsEqual(Self.messageCreated),
            let version = JSONObjectScanner.value(of: "version", in: members),
            Self.integer(payload[version]) == RoomEvent.currentVersion,
            let message = JSONObjectScanner.value(of: "message", in: members),
            payload[message.lowerBound] == UInt8(ascii: "{"),
            let fields = JSONObjectScanner.members(of: payload, in: message)
        else { return nil }
        if let seq = JSONObjectScanner.value(of: "seq", in: fields), !payload[seq].elementsEqual("null".utf8) {
            guard let number = Self.integer(payload[seq]) else { return nil }
            self.seq = number
        } else {
            self.seq = nil
        }
        self.json = String(decoding: payload[message], as: UTF8.self)
        self.publishedAt = JSONObjectScanner.value(of: "publishedAt", in: members).flatMap {
            Double(String(decoding: payload[$0], as: UTF8.self))
        }
    }

    /// `"message.created"`, quotes included, as the type's value is written.
    private static let messageCreated = Array("\"\(RoomEventType.messageCreated.rawValue)\"".utf8)

    private static func integer(_ bytes: ArraySlice<UInt8>) -> Int? {
        Int(String(decoding: bytes, as: UTF8.self))
    }
}
