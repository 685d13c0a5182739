import NIOCore
import Testing
@testable import VoiceFlowRedis

/// The protocol at the byte level: exact bytes out, every reply type in, however it is split.
@Suite struct RedisCodecTests {
    @Test func commandsAreEncodedBinarySafe() {
        var buffer = ByteBuffer()
        HiredisCommandEncoder.encode([Array("SET".utf8), Array("k".utf8), [0x00, 0x0D, 0x0A, 0xFF]], into: &buffer)
        HiredisCommandEncoder.encode([Array("GET".utf8), []], into: &buffer)
        let expected: [UInt8] = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF]
            + Array("\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func everyReplyTypeParsesEvenWhenSplitAcrossReads() throws {
        let stream = "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\u{0}\r\n\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"
        let bytes = Array(stream.utf8)
        for chunkSize in [1, 2, 3, 7, bytes.count] {
            let reader = HiredisReader()
            var replies: [RESPValue] = []
            var index = 0
            while index < bytes.count {
                let end = min(index + chunkSize, bytes.count)
                try reader.feed(ByteBuffer(bytes: bytes[index..<end]))
                while let reply = try reader.nextReply() { replies.append(reply) }
                index = end
            }
            #expect(replies == [
                .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(Array("he\u{0}\r\n".utf8)),
                .bulkString([]), .null, .null, .array([]), .array([.array([.integer(1)]), .bulkString(Array("x".utf8))]),
            ])
        }
    }

    @Test func garbageIsAProtocolError() throws {
        let reader = HiredisReader()
        try reader.feed(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RedisError.self) { try reader.nextReply() }
    }

    @Test func pushMessagesAreRecognised() {
        let message = RedisPubSubMessage(.array([.bulkString(Array("message".utf8)), .bulkString(Array("room".utf8)), .bulkString([1, 2])]))
        #expect(message == RedisPubSubMessage(channel: "room", pattern: nil, payload: [1, 2]))
        let patterned = RedisPubSubMessage(.array([
            .bulkString(Array("pmessage".utf8)), .bulkString(Array("room:*".utf8)), .bulkString(Array("room:1".utf8)), .bulkString([]),
        ]))
        #expect(patterned?.pattern == "room:*")
        #expect(RedisPubSubMessage(.array([.bulkString(Array("subscribe".utf8)), .bulkString(Array("room".utf8)), .integer(1)])) == nil)
    }

    @Test func urlsAreParsedAndPasswordsNeverPrinted() throws {
        let full = try RedisConfiguration(url: "redis://app:s%3Acret@cache.internal:6380/3")
        #expect(full.host == "cache.internal")
        #expect(full.port == 6380)
        #expect(full.username == "app")
        #expect(full.password == "s:cret")
        #expect(full.database == 3)
        #expect(!full.description.contains("cret"))
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password == "secret")
        #expect(passwordOnly.port == 6379)
        #expect(try RedisConfiguration(url: "rediss://x:1").tls == RedisTLS())  // TLS is supported now
        for bad in ["http://x", "redis://", "redis://h/db", "redis://h:99999", "not a url"] {
            #expect(throws: RedisError.self) { try RedisConfiguration(url: bad) }
        }
    }

    @Test func scriptsKnowTheirSHA1() {
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
