import Foundation
import Hummingbird
import VoiceFlowCommon

/// The rules for message fields.
enum MessageRules {
    static let maximumLength = 4000
    /// Types a client may send; `system` messages are written by the server only.
    static let clientTypes: Set<String> = ["text", "file", "voice_note"]
    /// Types that carry an uploaded file (and the only ones that may).
    static let typesWithFile: Set<String> = ["file", "voice_note"]

    /// The content trimmed: at most 4000 characters as given (the API description's bound), and
    /// not empty once trimmed.
    static func validatedContent(_ content: String) throws(APIError) -> String {
        let trimmed = trimmed(content)
        guard !trimmed.isEmpty, content.storedLength <= maximumLength else {
            throw .validation("content must be 1-4000 characters", field: "content")
        }
        return trimmed
    }

    /// `text` without leading and trailing white space and line breaks, as Foundation's
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` trims (Unicode's White_Space scalars and
    /// U+200B), without bridging through `NSString` and without copying when nothing is trimmed.
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let isSpace = { (scalar: Unicode.Scalar) in scalar.properties.isWhitespace || scalar == "\u{200B}" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        if first == scalars.startIndex && last == scalars.index(before: scalars.endIndex) { return text }
        return String(scalars[first...last])
    }
}

/// A `POST /api/v1/messages` body as the shared ``SendMessageBody``, with the optional fields
/// (`type`, `fileId`) either left out or given a value: `null` is refused, as the description says.
struct StrictSendMessageBody: Decodable {
    var body: SendMessageBody

    enum OptionalKeys: String, CodingKey {
        case type, fileId
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: OptionalKeys.self)
        for key in [OptionalKeys.type, .fileId] where container.contains(key) {
            if try container.decodeNil(forKey: key) {
                throw DecodingError.valueNotFound(
                    String.self, .init(codingPath: container.codingPath + [key], debugDescription: "null is not allowed"))
            }
        }
        self.body = try SendMessageBody(from: decoder)
    }
}

/// 422 `VALIDATION_FAILED`: the request matches the API description but a rule it cannot express
/// refuses it (a file that is not the caller's, a cursor pair that does not go together).
extension APIError {
    static func unprocessable(_ message: String, field: String) -> APIError {
        APIError(status: .unprocessableContent, code: .validationFailed, message: message, details: [field: message])
    }
}

/// Where a history read starts and which way it goes.
enum HistoryCursor: Equatable {
    /// The newest messages, newest first.
    case latest
    /// Messages with a smaller sequence number, newest first.
    case before(Int)
    /// Messages with a larger sequence number, oldest first (catching up).
    case after(Int)
    /// The `page`-th group of `limit` messages counting back from the newest, newest first.
    case page(Int)

    static let maximumPage = 100_000

    /// Parses `before`/`after`/`page` (at most one) and `limit` (1–100, default 50).
    static func parse(_ query: [String: String]) throws(APIError) -> (HistoryCursor, Int) {
        let limit = query["limit"].map { Int($0) } ?? 50
        guard let limit, (1...100).contains(limit) else { throw .validation("limit must be 1-100", field: "limit") }
        if let raw = query["page"] {
            // The guide's page numbers (1 = the newest `limit` messages); keyset cursors are the
            // better way to page, so the two do not mix.
            guard let page = Int(raw), (1...maximumPage).contains(page) else {
                throw .validation("page must be 1-\(maximumPage)", field: "page")
            }
            guard query["before"] == nil, query["after"] == nil else {
                throw .unprocessable("give page, before or after, not several", field: "page")
            }
            return (.page(page), limit)
        }
        switch (query["before"], query["after"]) {
        case (nil, nil):
            return (.latest, limit)
        case (let before?, nil):
            guard let seq = Int(before), seq >= 0 else { throw .validation("before must be a sequence number", field: "before") }
            return (.before(seq), limit)
        case (nil, let after?):
            guard let seq = Int(after), seq >= 0 else { throw .validation("after must be a sequence number", field: "after") }
            return (.after(seq), limit)
        case (.some, .some):
            throw .unprocessable("give before or after, not both", field: "before")
        }
    }
}
