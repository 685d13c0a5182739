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

    /// `yyyy-MM-ddTHH:mm:ssZ` in UTC, the fraction of a second dropped: what ``encoder()`` writes.
    public static func iso8601Seconds(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (day, second) = secondOfDay < 0 ? (days - 1, secondOfDay + 86_400) : (days, secondOfDay)
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let shifted = day + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + two(month) + "-" + two(dayOfMonth)
            + "T" + two(second / 3_600) + ":" + two(second % 3_600 / 60) + ":" + two(second % 60) + "Z"
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
