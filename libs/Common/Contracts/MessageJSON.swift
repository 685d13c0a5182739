import Foundation
import HTTPTypes
import Hummingbird

/// The JSON of messages, written directly: the JSON ``WireDateCoding/encoder()`` writes for a
/// ``MessageDTO`` or a ``MessagePage`` (the same members, nil optionals left out the same way, the
/// same string escapes and dates; keys in declaration order), without `Encodable`'s per-field
/// machinery. A history page is mostly this encoding, so its responses use it.
///
/// `Tests/CommonTests/MessageJSONTests.swift` holds it to `JSONEncoder`'s output.
public enum MessageJSON {
    /// A message's JSON.
    public static func encode(_ message: MessageDTO) -> [UInt8] {
        var writer = Writer()
        writer.message(message)
        return writer.bytes
    }

    /// A history page's JSON.
    public static func encode(_ page: MessagePage) -> [UInt8] {
        var writer = Writer()
        writer.raw("{\"data\":[")
        for (index, message) in page.data.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.message(message)
        }
        writer.raw("],\"total\":")
        writer.integer(page.total)
        writer.raw(",\"hasMore\":")
        writer.raw(page.hasMore ? "true" : "false")
        writer.raw("}")
        return writer.bytes
    }

    /// A message event's JSON (`message.created`, `.edited`, `.deleted`: a ``RoomEvent`` carrying a
    /// message and no room, member or voice session), as ``EventPublisher`` publishes it; `nil`
    /// for any other event, which `JSONEncoder` writes instead.
    public static func encode(_ event: RoomEvent) -> [UInt8]? {
        guard let message = event.message, event.room == nil, event.member == nil, event.voice == nil,
            event.voiceReason == nil
        else { return nil }
        var writer = Writer()
        writer.raw("{\"version\":")
        writer.integer(event.version)
        writer.raw(",\"type\":")
        writer.string(event.type.rawValue)
        writer.raw(",\"roomId\":")
        writer.string(event.roomId)
        if let actorId = event.actorId {
            writer.raw(",\"actorId\":")
            writer.string(actorId)
        }
        if let userId = event.userId {
            writer.raw(",\"userId\":")
            writer.string(userId)
        }
        writer.raw(",\"message\":")
        writer.message(message)
        writer.raw(",\"occurredAt\":")
        writer.date(event.occurredAt)
        if let publishedAt = event.publishedAt {
            guard publishedAt.isFinite else { return nil }
            writer.raw(",\"publishedAt\":")
            writer.bytes.append(contentsOf: String(publishedAt).utf8)
        }
        writer.raw("}")
        return writer.bytes
    }

    /// A `200` (or `status`) JSON response holding `bytes`, with the headers a `JSONEncoder`
    /// response carries.
    public static func response(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .contentType, value: "application/json; charset=utf-8"))
        headers.append(HTTPField(name: .contentLength, value: String(bytes.count)))
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private struct Writer {
        var bytes: [UInt8] = []

        init() {
            bytes.reserveCapacity(512)
        }

        mutating func raw(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func integer(_ value: Int) {
            bytes.append(contentsOf: String(value).utf8)
        }

        /// A JSON string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or `\u00XX`
        /// (lowercase hex), everything else as it is (slashes too). Runs without anything to escape
        /// are copied whole.
        mutating func string(_ text: String) {
            bytes.append(UInt8(ascii: "\""))
            var text = text
            text.withUTF8 { utf8 in
                var runStart = 0
                for index in utf8.indices where Self.needsEscape(utf8[index]) {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    escape(utf8[index])
                    runStart = index + 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            }
            bytes.append(UInt8(ascii: "\""))
        }

        private static func needsEscape(_ byte: UInt8) -> Bool {
            byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
        }

        private mutating func escape(_ byte: UInt8) {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            default:
                raw("\\u00")
                bytes.append(contentsOf: CollectionOfOne(byte).lowercaseHex.utf8)
            }
        }

        /// ISO 8601 in UTC to the second, as `JSONEncoder`'s `.iso8601` strategy writes it.
        mutating func date(_ date: Date) {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: WireDateCoding.iso8601Seconds(date).utf8)
            bytes.append(UInt8(ascii: "\""))
        }

        mutating func message(_ message: MessageDTO) {
            raw("{\"id\":")
            string(message.id)
            raw(",\"roomId\":")
            string(message.roomId)
            if let seq = message.seq {
                raw(",\"seq\":")
                integer(seq)
            }
            raw(",\"content\":")
            string(message.content)
            raw(",\"type\":")
            string(message.type)
            if let author = message.author {
                raw(",\"author\":{\"id\":")
                string(author.id)
                raw(",\"username\":")
                string(author.username)
                raw(",\"avatarUrl\":")
                if let avatarUrl = author.avatarUrl { string(avatarUrl) } else { raw("null") }
                raw("}")
            }
            if let file = message.file {
                raw(",\"file\":{\"id\":")
                string(file.id)
                raw(",\"name\":")
                string(file.name)
                raw(",\"size\":")
                integer(file.size)
                raw(",\"mimeType\":")
                string(file.mimeType)
                raw(",\"url\":")
                string(file.url)
                raw("}")
            }
            raw(",\"createdAt\":")
            date(message.createdAt)
            if let editedAt = message.editedAt {
                raw(",\"editedAt\":")
                date(editedAt)
            }
            if let deletedAt = message.deletedAt {
                raw(",\"deletedAt\":")
                date(deletedAt)
            }
            raw("}")
        }
    }
}

extension MessageDTO {
    /// The message as a JSON response, written by ``MessageJSON``.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        MessageJSON.response(MessageJSON.encode(self))
    }
}

extension MessagePage {
    /// The page as a JSON response, written by ``MessageJSON``.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        MessageJSON.response(MessageJSON.encode(self))
    }
}

/// A value whose JSON is written directly rather than through `Encodable` (see ``MessageJSON``):
/// a socket acknowledgement carries these bytes as they are.
public protocol DirectJSONEncodable: Sendable {
    /// The value's JSON, the members and values ``WireDateCoding/encoder()`` writes.
    var jsonBytes: [UInt8] { get }
}

extension MessageSendAck: DirectJSONEncodable {
    /// `{"message": …}`, the message written by ``MessageJSON``.
    public var jsonBytes: [UInt8] {
        var bytes = Array(#"{"message":"#.utf8)
        bytes += MessageJSON.encode(message)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
