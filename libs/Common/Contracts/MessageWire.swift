import Foundation
import Hummingbird

/// `POST /api/v1/messages` (and the gateway's `message:send`, which forwards it): what a client
/// sends to post a message. One definition for the messages service, the gateway and the tests.
public struct SendMessageBody: Codable, Sendable, Equatable {
    public var roomId: String
    public var content: String
    /// `text` (default), `file` or `voice_note`.
    public var type: String?
    /// An upload of the sender's, for `file` and `voice_note` messages.
    public var fileId: String?

    public init(roomId: String, content: String, type: String? = nil, fileId: String? = nil) {
        self.roomId = roomId
        self.content = content
        self.type = type
        self.fileId = fileId
    }
}

/// `PATCH /api/v1/messages/:id`.
public struct EditMessageBody: Codable, Sendable, Equatable {
    public var content: String

    public init(content: String) { self.content = content }
}

/// A page of `GET /api/v1/rooms/:roomId/messages`: `{data, total, hasMore}`.
///
/// `data` is newest first, except with `after`, where it is oldest first (catching up).
public struct MessagePage: ResponseCodable, Sendable, Equatable {
    public var data: [MessageDTO]
    /// Messages of the room that are not deleted.
    public var total: Int
    public var hasMore: Bool

    public init(data: [MessageDTO], total: Int, hasMore: Bool) {
        self.data = data
        self.total = total
        self.hasMore = hasMore
    }
}

/// `{success: true}`, the answer of operations that return nothing else.
public struct SuccessResponse: ResponseCodable, Sendable, Equatable {
    public var success: Bool

    public init() { self.success = true }
}

/// The JSON coding of dates on every wire of VoiceFlow: ISO 8601, read with or without
/// fractional seconds, written without them (as the services' responses and events are).
public enum WireDateCoding {
    /// Parses an ISO 8601 date, with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A decoder for service responses and events.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date"))
            }
            return date
        }
        return decoder
    }

    /// An encoder for responses and events (slashes unescaped: `/api/v1/files/...` stays readable).
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
