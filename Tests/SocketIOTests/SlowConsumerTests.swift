import Testing

@testable import VoiceFlowSocketIO

/// A client that stops reading is cut off once its queue is full, on either transport: the server
/// never buffers without bound for it.
@Suite struct SlowConsumerTests {
    static func session(limit: Int, transport: EngineSession.Transport = .polling) -> EngineSession {
        var configuration = EngineConfiguration()
        configuration.maxBufferedPackets = limit
        return EngineSession(
            id: SessionID.make(), handshake: EngineHandshake(query: [:], headers: [:], remoteAddress: nil),
            transport: transport, configuration: configuration)
    }

    static func message(_ index: Int) -> EnginePacket {
        EnginePacket(.message, .text("event \(index)"))
    }

    @Test func aPollingClientThatNeverPollsIsClosedWhenItsQueueIsFull() async {
        let session = Self.session(limit: 10)
        for index in 0..<10 { #expect(session.enqueue([Self.message(index)])) }
        #expect(session.isOpen)
        #expect(!session.enqueue([Self.message(10)]))
        #expect(!session.isOpen)
        #expect(session.closeReason == .slowConsumer)
    }

    @Test func aPollingClientThatKeepsUpIsNeverCutOff() async {
        let session = Self.session(limit: 10)
        for round in 0..<5 {
            for index in 0..<10 { #expect(session.enqueue([Self.message(round * 10 + index)])) }
            let drained = await session.poll()
            #expect(drained?.count == 10)
        }
        #expect(session.isOpen)
    }

    @Test func aWebSocketClientThatStopsReadingIsClosedWhenItsQueueIsFull() {
        let sink = WebSocketSink(limit: 5)
        let session = Self.session(limit: 5, transport: .webSocket(sink))
        for index in 0..<5 { #expect(session.enqueue([Self.message(index)])) }
        #expect(!session.enqueue([Self.message(5)]))
        #expect(session.closeReason == .slowConsumer)
    }
}
