import Testing

@testable import VoiceFlowSocketIO

/// A client that stops reading is cut off once its queue is full, on either transport: the server
/// never buffers without bound for it. The bound counts bytes, not packets.
@Suite struct SlowConsumerTests {
    /// Every test message is `event NN`: 8 bytes of data plus the packet type, 9 bytes queued.
    static let packetBytes = 9

    static func session(
        limit: Int, transport: EngineSession.Transport = .polling, notice: EngineData? = nil
    ) -> EngineSession {
        var configuration = EngineConfiguration()
        configuration.maxBufferedBytes = limit
        configuration.slowConsumerNotice = notice
        return EngineSession(
            id: SessionID.make(), handshake: EngineHandshake(query: [:], headers: [:], remoteAddress: nil),
            transport: transport, configuration: configuration)
    }

    static func message(_ index: Int) -> EnginePacket {
        EnginePacket(.message, .text("event " + (index < 10 ? "0" : "") + String(index)))
    }

    @Test func aPollingClientThatNeverPollsIsClosedWhenItsQueueIsFull() async {
        let session = Self.session(limit: 10 * Self.packetBytes)
        for index in 0..<10 { #expect(session.enqueue([Self.message(index)])) }
        #expect(session.isOpen)
        #expect(!session.enqueue([Self.message(10)]))
        #expect(!session.isOpen)
        #expect(session.closeReason == .slowConsumer)
    }

    @Test func thePollingBoundCountsBytesNotPackets() async {
        let session = Self.session(limit: 1_000)
        // Two packets of 600 bytes exceed 1,000 bytes, though two packets are far below any packet count.
        let large = EnginePacket(.message, .text(String(repeating: "x", count: 599)))
        #expect(session.enqueue([large]))
        #expect(!session.enqueue([large]))
        #expect(session.closeReason == .slowConsumer)
    }

    @Test func onePacketLargerThanTheBoundStillGoesOutWhenNothingWaits() async {
        let session = Self.session(limit: 100)
        let large = EnginePacket(.message, .text(String(repeating: "x", count: 5_000)))
        #expect(session.enqueue([large]))
        #expect(await session.poll() == [large])
        #expect(session.enqueue([large]))
        #expect(session.isOpen)
    }

    @Test func aPollingClientThatKeepsUpIsNeverCutOff() async {
        let session = Self.session(limit: 10 * Self.packetBytes)
        for round in 0..<5 {
            for index in 0..<10 { #expect(session.enqueue([Self.message(round * 10 + index)])) }
            let drained = await session.poll()
            #expect(drained?.count == 10)
        }
        #expect(session.isOpen)
    }

    @Test func aCutOffPollingClientIsToldWhyBeforeTheClosePacket() async {
        let notice = EngineData.text(#"2["error",{"code":"SLOW_CONSUMER"}]"#)
        let session = Self.session(limit: 2 * Self.packetBytes, notice: notice)
        #expect(session.enqueue([Self.message(0), Self.message(1)]))
        #expect(!session.enqueue([Self.message(2)]))
        let delivered = await session.poll()
        #expect(delivered == [Self.message(0), Self.message(1), .message(notice), EnginePacket(.close)])
        #expect(session.isFinished)
    }

    @Test func aWebSocketClientThatStopsReadingIsClosedWhenItsQueueIsFull() {
        let sink = WebSocketSink(limit: 5 * Self.packetBytes)
        let session = Self.session(limit: 5 * Self.packetBytes, transport: .webSocket(sink))
        for index in 0..<5 { #expect(session.enqueue([Self.message(index)])) }
        #expect(!session.enqueue([Self.message(5)]))
        #expect(session.closeReason == .slowConsumer)
    }

    @Test func aCutOffWebSocketClientGetsTheNoticeAndTheClosePacketAfterWhatWasQueued() async {
        let notice = EngineData.text(#"2["error",{"code":"SLOW_CONSUMER"}]"#)
        let sink = WebSocketSink(limit: 2 * Self.packetBytes)
        let session = Self.session(limit: 2 * Self.packetBytes, transport: .webSocket(sink), notice: notice)
        #expect(session.enqueue([Self.message(0), Self.message(1)]))
        #expect(!session.enqueue([Self.message(2)]))
        var frames: [EngineData] = []
        for await frame in sink.frames { frames.append(frame) }
        #expect(frames == [.text("4event 00"), .text("4event 01"), .text("4" + #"2["error",{"code":"SLOW_CONSUMER"}]"#), .text("1")])
    }

    @Test func aWebSocketQueueFreesItsBytesAsTheWriterTakesFrames() async {
        let sink = WebSocketSink(limit: 2 * Self.packetBytes)
        let session = Self.session(limit: 2 * Self.packetBytes, transport: .webSocket(sink))
        var frames = sink.frames.makeAsyncIterator()
        for index in 0..<20 {
            #expect(session.enqueue([Self.message(index)]))
            let frame = await frames.next()
            if let frame { sink.taken(frame) }
        }
        #expect(session.isOpen)
        #expect(sink.pendingBytes == 0)
    }

    @Test func preparedMessagesAreTheSameBytesOnEverySession() async {
        let event = PreparedEvent("message:received", json: #"{"seq":1}"#)
        #expect(event.text == #"2["message:received",{"seq":1}]"#)
        let sinks = [WebSocketSink(limit: 1_000), WebSocketSink(limit: 1_000)]
        for sink in sinks {
            let session = Self.session(limit: 1_000, transport: .webSocket(sink))
            #expect(session.send(prepared: [event.message]))
            sink.finish()
            var frames: [EngineData] = []
            for await frame in sink.frames { frames.append(frame) }
            #expect(frames == [.text(#"42["message:received",{"seq":1}]"#)])
        }
        let polling = Self.session(limit: 1_000)
        #expect(polling.send(prepared: [event.message]))
        #expect(await polling.poll() == [.message(.text(event.text))])
    }
}
