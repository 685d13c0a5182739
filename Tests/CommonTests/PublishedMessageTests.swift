import Foundation
import Testing
import VoiceFlowCommon

/// A gateway reads `message.created` events without decoding the message: what it passes on must
/// be the message the publisher encoded, and anything that is not such an event (or not
/// well-formed JSON) is left to the full decoder.
@Suite struct PublishedMessageTests {
    static func message(seq: Int?, content: String = "hello \"there\" \\ \u{1F600} \n") -> MessageDTO {
        MessageDTO(
            id: UUID(), roomId: UUID(), seq: seq, content: content, type: "text",
            author: AuthorDTO(id: UUID(), username: "ada", avatarUrl: nil), file: nil,
            createdAt: Date(timeIntervalSince1970: 1_764_000_000.123), editedAt: nil, deletedAt: nil)
    }

    /// The event as ``EventPublisher`` encodes it.
    static func published(_ event: RoomEvent) throws -> [UInt8] {
        var event = event
        event.publishedAt = 1_764_000_000.5
        return Array(try WireDateCoding.encoder().encode(event))
    }

    @Test(arguments: [42, nil] as [Int?])
    func aMessageCreatedEventGivesItsSeqAndTheMessageAsPublished(seq: Int?) throws {
        let message = Self.message(seq: seq)
        let payload = try Self.published(
            RoomEvent(type: .messageCreated, roomId: UUID(uuidString: message.roomId)!, actorId: UUID(), message: message))
        let published = try #require(PublishedMessage(roomEvent: payload))
        #expect(published.seq == seq)
        #expect(published.publishedAt == 1_764_000_000.5)
        // The same message as the full decoder reads from the event.
        let decoded = try WireDateCoding.decoder().decode(MessageDTO.self, from: Data(published.json.utf8))
        let full = try WireDateCoding.decoder().decode(RoomEvent.self, from: Data(payload))
        #expect(decoded == full.message)
        #expect(decoded.content == message.content && decoded.id == message.id)
    }

    @Test(arguments: [RoomEventType.messageEdited, .messageDeleted])
    func otherMessageEventsAreLeftToTheDecoder(type: RoomEventType) throws {
        let message = Self.message(seq: 3)
        let payload = try Self.published(RoomEvent(type: type, roomId: UUID(), actorId: nil, message: message))
        #expect(PublishedMessage(roomEvent: payload) == nil)
    }

    @Test func anEventOfAnotherVersionIsLeftToTheDecoder() throws {
        var event = RoomEvent(type: .messageCreated, roomId: UUID(), actorId: nil, message: Self.message(seq: 1))
        event.version = RoomEvent.currentVersion + 1
        #expect(PublishedMessage(roomEvent: try Self.published(event)) == nil)
    }

    @Test(arguments: [
        #"{"version":1,"type":"message.created","message":{"seq":1,"content":"x"}"#,  // unterminated
        #"{"version":1,"type":"message.created","message":{"seq":1,"content":"x}}"#,  // open string
        #"{"version":1,"type":"message.created","message":{"seq":1.5}}"#,  // seq not a whole number
        #"{"version":1,"type":"message.created","message":"not an object"}"#,
        #"{"version":1,"type":"message.created"}"#,
        #"{"version":1,"type":"message.created","message":{"content":"a\qb"}}"#,  // bad escape
        "{\"version\":1,\"type\":\"message.created\",\"message\":{\"content\":\"tab\traw\"}}",  // raw control character
        #"{"version":1,"type":"message.created","message":{"seq":01}}"#,  // leading zero
        #"{"version":1,"type":"message.created","message":{"seq":1}} trailing"#,
        #"[1,2]"#,
        "",
    ])
    func malformedPayloadsAreRefused(text: String) {
        #expect(PublishedMessage(roomEvent: Array(text.utf8)) == nil)
    }

    @Test func theScannerFindsTopLevelMembersAcrossNestingAndWhitespace() throws {
        let text = #" { "a" : [1, {"b": "}"}, -2.5e+3, true, null] , "seq":7,"c":{"seq":9} } "#
        let bytes = Array(text.utf8)
        let members = try #require(JSONObjectScanner.members(of: bytes))
        #expect(members.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "seq", "c"])
        let seq = try #require(JSONObjectScanner.value(of: "seq", in: members))
        #expect(String(decoding: bytes[seq], as: UTF8.self) == "7")
        let nested = try #require(JSONObjectScanner.value(of: "c", in: members))
        #expect(String(decoding: bytes[nested], as: UTF8.self) == #"{"seq":9}"#)
    }

    @Test func nestingBeyondTheLimitIsRefused() {
        let deep = String(repeating: #"{"a":"#, count: JSONObjectScanner.maxDepth + 1) + "1"
            + String(repeating: "}", count: JSONObjectScanner.maxDepth + 1)
        #expect(JSONObjectScanner.members(of: Array(deep.utf8)) == nil)
        let fine = String(repeating: #"{"a":"#, count: 10) + "1" + String(repeating: "}", count: 10)
        #expect(JSONObjectScanner.members(of: Array(fine.utf8)) != nil)
    }
}
