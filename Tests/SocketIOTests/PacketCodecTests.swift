import Testing

@testable import VoiceFlowSocketIO

@Suite("Engine.IO and Socket.IO packet codecs")
struct PacketCodecTests {
    @Test("Polling payloads join packets with the record separator and base64 binary")
    func pollingPayloads() throws {
        let packets: [EnginePacket] = [.message(.text("hello")), .message(.binary([1, 2, 3, 4])), EnginePacket(.ping)]
        let payload = EngineCodec.pollingPayload(packets)
        #expect(payload == "4hello\u{1e}bAQIDBA==\u{1e}2")
        #expect(try EngineCodec.packets(fromPollingPayload: payload) == packets)
    }

    @Test("Malformed Engine.IO input is refused", arguments: ["", "abc", "9", "bnot base64!", "4a\u{1e}x"])
    func malformedEngineInput(payload: String) {
        #expect(throws: EngineDecodingError.self) { try EngineCodec.packets(fromPollingPayload: payload) }
    }

    @Test("WebSocket frames carry one packet; binary messages are raw frames")
    func webSocketFrames() throws {
        #expect(EngineCodec.webSocketFrame(for: .message(.binary([9]))) == .binary([9]))
        #expect(EngineCodec.webSocketFrame(for: EnginePacket(.pong, .text("probe"))) == .text("3probe"))
        #expect(try EngineCodec.packet(fromWebSocketFrame: .text("2probe")) == EnginePacket(.ping, .text("probe")))
        #expect(try EngineCodec.packet(fromWebSocketFrame: .binary([1])) == .message(.binary([1])))
    }

    @Test("Socket.IO packets encode as the spec's examples")
    func socketIOEncoding() {
        #expect(SocketIOPacket(type: .connect, data: ["sid": "abc"]).encoded() == [.text("0{\"sid\":\"abc\"}")])
        #expect(SocketIOPacket.event("message-back", [1, "2", ["3": [true]]]).encoded() == [.text("2[\"message-back\",1,\"2\",{\"3\":[true]}]")])
        #expect(SocketIOPacket(type: .ack, namespace: "/admin", id: 456, data: [1]).encoded() == [.text("3/admin,456[1]")])
        #expect(
            SocketIOPacket(type: .connectError, namespace: "/random", data: ["message": "Invalid namespace"]).encoded()
                == [.text("4/random,{\"message\":\"Invalid namespace\"}")])
    }

    @Test("An acknowledgement with pre-encoded JSON is the packet its value would encode to")
    func preEncodedAcknowledgement() {
        for namespace in ["/", "/admin"] {
            let value: SocketIOValue = ["message": ["id": "m1", "seq": 7, "tags": ["a", "b"]]]
            let expected = SocketIOPacket(type: .ack, namespace: namespace, id: 42, data: .array([value])).encoded()
            #expect([.text(SocketIOAck.ackText(namespace: namespace, id: 42, json: Array(value.jsonString.utf8)))] == expected)
        }
        #expect(SocketIOAck.ackText(namespace: "/", id: 0, json: Array("{}".utf8)) == "30[{}]")
    }

    @Test("Binary values become attachments with placeholders, and come back")
    func binaryRoundTrip() throws {
        let packet = SocketIOPacket.event("message", [.binary([1, 2, 3]), ["nested": .binary([4, 5, 6])]], id: 789)
        let messages = packet.encoded()
        #expect(
            messages == [
                .text("52-789[\"message\",{\"_placeholder\":true,\"num\":0},{\"nested\":{\"_placeholder\":true,\"num\":1}}]"),
                .binary([1, 2, 3]), .binary([4, 5, 6]),
            ])
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(messages[0]) == nil)
        #expect(try decoder.decode(messages[1]) == nil)
        let decoded = try decoder.decode(messages[2])
        #expect(decoded == SocketIOPacket(type: .binaryEvent, id: 789, data: packet.data))
    }

    @Test(
        "Invalid Socket.IO packets are refused",
        arguments: [
            "abc", "7", "2{}", "2abc[\"message-with-ack\",1]", "2[\"connect\"]", "2[]", "2[{}]", "1{}", "0[]", "3[1]",
            "5-[\"a\"]", "511-[\"a\"]", "2[\"a\"", "2[\"a\"]x", "4{\"message\":1}x",
        ])
    func invalidSocketIOPackets(text: String) {
        var decoder = SocketIOPacketDecoder()
        #expect(throws: SocketIOPacketError.self) { try decoder.decode(.text(text)) }
    }

    @Test("A binary message without a pending packet is refused, as is text while attachments are due")
    func attachmentSequencing() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(throws: SocketIOPacketError.self) { try decoder.decode(.binary([1])) }
        var waiting = SocketIOPacketDecoder()
        _ = try waiting.decode(.text("51-[\"a\",{\"_placeholder\":true,\"num\":0}]"))
        #expect(throws: SocketIOPacketError.self) { try waiting.decode(.text("2[\"b\"]")) }
        var outOfRange = SocketIOPacketDecoder()
        _ = try outOfRange.decode(.text("51-[\"a\",{\"_placeholder\":true,\"num\":3}]"))
        #expect(throws: SocketIOPacketError.self) { try outOfRange.decode(.binary([1])) }
    }

    @Test("Namespaces and ack ids parse")
    func namespacesAndIDs() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(.text("0/custom,")) == SocketIOPacket(type: .connect, namespace: "/custom"))
        #expect(try decoder.decode(.text("0/custom,{\"token\":\"abc\"}")) == SocketIOPacket(type: .connect, namespace: "/custom", data: ["token": "abc"]))
        #expect(try decoder.decode(.text("1/custom")) == SocketIOPacket(type: .disconnect, namespace: "/custom"))
        #expect(try decoder.decode(.text("2/chat,12[\"hi\"]")) == SocketIOPacket(type: .event, namespace: "/chat", id: 12, data: ["hi"]))
    }
}

@Suite("JSON reader and writer")
struct JSONTests {
    @Test("Round trips keep member order, numbers and escapes")
    func roundTrip() throws {
        let text = #"{"b":1,"a":[true,false,null,-2.5,1e3,"\u00e9\n\"x\""],"c":{"\ud83d\ude00":9007199254740993}}"#
        let value = try SocketIOValue.parseJSON(text)
        #expect(value["b"] == .int(1))
        #expect(value["a"]?.arrayValue?[3] == .double(-2.5))
        #expect(value["a"]?.arrayValue?[5] == .string("é\n\"x\""))
        #expect(value["c"]?["😀"] == .int(9_007_199_254_740_993))
        #expect(value.jsonString == #"{"b":1,"a":[true,false,null,-2.5,1000,"é\n\"x\""],"c":{"😀":9007199254740993}}"#)
        #expect(try SocketIOValue.parseJSON(value.jsonString).jsonString == value.jsonString)
    }

    @Test("Malformed JSON and excessive nesting are refused", arguments: ["", "{", "[1,]", "01", "\"\u{01}\"", "tru", "{\"a\" 1}", "1 2"])
    func malformed(text: String) {
        #expect(throws: SocketIOValue.JSONError.self) { try SocketIOValue.parseJSON(text) }
    }

    @Test("Nesting deeper than the limit is refused")
    func depth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: SocketIOValue.JSONError.self) { try SocketIOValue.parseJSON(deep) }
        let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect((try? SocketIOValue.parseJSON(fine)) != nil)
    }

    @Test("Values bridge to and from Codable types")
    func codable() throws {
        struct Payload: Codable, Equatable { var roomId: String; var lastSeq: Int? }
        let value = try SocketIOValue(encoding: Payload(roomId: "r", lastSeq: 3))
        #expect(try value.decode(Payload.self) == Payload(roomId: "r", lastSeq: 3))
        #expect(throws: (any Error).self) { try SocketIOValue.string("x").decode(Payload.self) }
    }
}
