import Foundation
import Testing
import VoiceFlowCommon

/// Messages written by ``MessageJSON`` are the JSON `JSONEncoder` (the wire encoder) writes, for
/// every shape a message takes: the same members with the same values, and the same text for
/// every string and date. (`JSONEncoder` orders an object's keys by hash, differently in each
/// process, so the texts are compared with their keys sorted.)
@Suite struct MessageJSONTests {
    /// `json` with every object's keys sorted (strings, numbers and dates as written).
    static func canonical(_ json: [UInt8]) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    static let awkward = "quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{07} nul \u{00} unit \u{1F} del \u{7F} é 😀 \u{2028}"

    static func messages() -> [MessageDTO] {
        let author = AuthorDTO(id: UUID(), username: "ada", avatarUrl: nil)
        let pictured = AuthorDTO(id: UUID(), username: "grace \"g\"", avatarUrl: "/api/v1/files/x/avatar.png")
        let file = FileDTO(id: UUID(), name: "report \\ \"final\".pdf", size: 1_234_567, mimeType: "application/pdf", url: "/api/v1/files/abc")
        return [
            MessageDTO(
                id: UUID(), roomId: UUID(), seq: 1, content: "hello", type: "text", author: author, file: nil,
                createdAt: Date(timeIntervalSince1970: 1_764_000_000), editedAt: nil, deletedAt: nil),
            MessageDTO(
                id: UUID(), roomId: UUID(), seq: nil, content: awkward, type: "text", author: pictured, file: nil,
                createdAt: Date(timeIntervalSince1970: 1_764_000_000.999), editedAt: Date(timeIntervalSince1970: 951_782_400.5),
                deletedAt: nil),
            MessageDTO(
                id: UUID(), roomId: UUID(), seq: 9_007_199_254_740_993, content: "", type: "file", author: nil, file: file,
                createdAt: Date(timeIntervalSince1970: 0), editedAt: Date(timeIntervalSince1970: 4_102_444_799),
                deletedAt: Date(timeIntervalSince1970: 1_709_251_199.2)),
            MessageDTO(
                id: UUID(), roomId: UUID(), seq: 0, content: "system", type: "system", author: nil, file: nil,
                createdAt: Date(timeIntervalSince1970: 1_077_926_400), editedAt: nil, deletedAt: nil),
        ]
    }

    @Test func aMessageIsWrittenAsJSONEncoderWritesIt() throws {
        for message in Self.messages() {
            let expected = try Self.canonical(Array(try WireDateCoding.encoder().encode(message)))
            #expect(try Self.canonical(MessageJSON.encode(message)) == expected)
            // What clients decode is the message itself.
            #expect(try WireDateCoding.decoder().decode(MessageDTO.self, from: Data(MessageJSON.encode(message))).content == message.content)
        }
    }

    @Test func theSendAcknowledgementIsWrittenAsJSONEncoderWritesIt() throws {
        for message in Self.messages() {
            let ack = MessageSendAck(message: message)
            #expect(try Self.canonical(ack.jsonBytes) == Self.canonical(Array(try WireDateCoding.encoder().encode(ack))))
        }
    }

    @Test func aMessageEventIsWrittenAsJSONEncoderWritesIt() throws {
        for (index, message) in Self.messages().enumerated() {
            let type: RoomEventType = [.messageCreated, .messageEdited, .messageDeleted][index % 3]
            var event = RoomEvent(
                type: type, roomId: UUID(), actorId: index.isMultiple(of: 2) ? UUID() : nil,
                userId: index == 1 ? UUID() : nil, message: message, occurredAt: Date(timeIntervalSince1970: 1_764_000_000.25))
            event.publishedAt = index == 3 ? nil : 1_764_633_000.123456 + Double(index)
            let bytes = try #require(MessageJSON.encode(event))
            let encoded = try WireDateCoding.encoder().encode(event)
            #expect(try Self.canonical(bytes) == Self.canonical(Array(encoded)))
            // What a gateway decodes is the same event (dates to the second, as on every wire).
            let decoder = WireDateCoding.decoder()
            #expect(try decoder.decode(RoomEvent.self, from: Data(bytes)) == decoder.decode(RoomEvent.self, from: encoded))
        }
    }

    @Test func aPublishedMessageEventIsReadAsItWasWritten() throws {
        let message = Self.messages()[0]
        var event = RoomEvent(type: .messageCreated, roomId: UUID(), actorId: UUID(), message: message)
        event.publishedAt = 1_764_633_000.5
        let bytes = try #require(MessageJSON.encode(event))
        let published = try #require(PublishedMessage(roomEvent: bytes))
        #expect(published.seq == message.seq)
        #expect(published.json == String(decoding: MessageJSON.encode(message), as: UTF8.self))
        #expect(published.publishedAt == 1_764_633_000.5)
    }

    @Test func otherEventsAreLeftToTheEncoder() {
        let member = RoomEvent(type: .memberLeft, roomId: UUID(), actorId: UUID(), userId: UUID())
        #expect(MessageJSON.encode(member) == nil)
    }

    /// Escapes at the start, the end, side by side, and none at all: each content reads back as itself.
    @Test(arguments: [
        "", "\"", "\\", "\n\n", "a\"", "\"a", "plain text without escapes", "é😀\u{2028}",
        String(decoding: (0..<32).map(UInt8.init), as: UTF8.self) + "end",
    ])
    func everyContentReadsBackAsItself(content: String) throws {
        let message = MessageDTO(
            id: UUID(), roomId: UUID(), seq: 1, content: content, type: "text", author: nil, file: nil,
            createdAt: Date(timeIntervalSince1970: 0), editedAt: nil, deletedAt: nil)
        #expect(try WireDateCoding.decoder().decode(MessageDTO.self, from: Data(MessageJSON.encode(message))).content == content)
    }

    @Test(arguments: [0, 1, 4])
    func aPageIsWrittenAsJSONEncoderWritesIt(count: Int) throws {
        let page = MessagePage(data: Array(Self.messages().prefix(count)), total: 17, hasMore: count == 4)
        let expected = try Self.canonical(Array(try WireDateCoding.encoder().encode(page)))
        #expect(try Self.canonical(MessageJSON.encode(page)) == expected)
    }

    @Test(arguments: [-86_401.5, -1, 0, 59.999, 951_782_400, 1_709_251_199, 1_764_000_000.5, 4_102_444_799, 253_402_300_799])
    func datesAreWrittenAsTheWireEncoderWritesThem(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let expected = String(decoding: try WireDateCoding.encoder().encode([date]), as: UTF8.self)
        #expect("[\"" + WireDateCoding.iso8601Seconds(date) + "\"]" == expected)
    }
}
