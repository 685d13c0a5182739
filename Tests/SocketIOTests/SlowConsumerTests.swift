import Synchronization
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
        // Frames handed to the connection count until the peer takes them: this peer takes none.
        let output = RecordingFrameOutput()
        let sink = WebSocketSink(limit: 5 * Self.packetBytes, output: output)
        let session = Self.session(limit: 5 * Self.packetBytes, transport: .webSocket(sink))
        for index in 0..<5 { #expect(session.enqueue([Self.message(index)])) }
        #expect(output.writtenFrames.count == 5)
        #expect(sink.pendingBytes == 5 * Self.packetBytes)
        #expect(!session.enqueue([Self.message(5)]))
        #expect(session.closeReason == .slowConsumer)
    }

    @Test func aCutOffWebSocketClientGetsTheNoticeAndTheClosePacketAfterWhatWasQueued() async {
        let notice = EngineData.text(#"2["error",{"code":"SLOW_CONSUMER"}]"#)
        let output = RecordingFrameOutput()
        let drained = Mutex(false)
        let sink = WebSocketSink(limit: 2 * Self.packetBytes, output: output) { _ in drained.withLock { $0 = true } }
        let session = Self.session(limit: 2 * Self.packetBytes, transport: .webSocket(sink), notice: notice)
        #expect(session.enqueue([Self.message(0), Self.message(1)]))
        #expect(!session.enqueue([Self.message(2)]))
        // The session finished the sink, and everything was written.
        #expect(drained.withLock { $0 })
        #expect(output.writtenFrames == [.text("4event 00"), .text("4event 01"), .text("4" + #"2["error",{"code":"SLOW_CONSUMER"}]"#), .text("1")])
    }

    @Test func aWebSocketQueueFreesItsBytesAsThePeerTakesThem() {
        let output = RecordingFrameOutput()
        let sink = WebSocketSink(limit: 2 * Self.packetBytes, output: output)
        let session = Self.session(limit: 2 * Self.packetBytes, transport: .webSocket(sink))
        for index in 0..<20 {
            #expect(session.enqueue([Self.message(index)]))
            output.peerTakesEverything()
        }
        #expect(session.isOpen)
        #expect(sink.pendingBytes == 0)
        #expect(output.writtenFrames.count == 20)
    }

    @Test func framesQueuedWhileTheEventLoopIsBusyGoOutInOneFlush() {
        let output = RecordingFrameOutput(runsAtOnce: false)
        let sink = WebSocketSink(limit: 1_000, output: output)
        let session = Self.session(limit: 1_000, transport: .webSocket(sink))
        for index in 0..<3 { #expect(session.enqueue([Self.message(index)])) }
        #expect(output.writes.isEmpty)
        output.runScheduled()
        #expect(output.writes.map { $0.map(\.data) } == [[.text("4event 00"), .text("4event 01"), .text("4event 02")]])
        // Queued and unsent bytes both count against the bound.
        #expect(sink.pendingBytes == 3 * Self.packetBytes)
    }

    @Test func messagesQueuedTogetherGoOutInOneWriteOrNotAtAll() {
        let output = RecordingFrameOutput()
        let sink = WebSocketSink(limit: 3 * Self.packetBytes, output: output)
        let session = Self.session(limit: 3 * Self.packetBytes, transport: .webSocket(sink))
        #expect(session.enqueue([Self.message(0), Self.message(1)]))
        #expect(output.writes.map { $0.map(\.data) } == [[.text("4event 00"), .text("4event 01")]])
        // Two more do not fit beside the two the peer has not taken: neither is queued.
        #expect(!session.enqueue([Self.message(2), Self.message(3)]))
        #expect(session.closeReason == .slowConsumer)
        #expect(!output.writtenFrames.contains(.text("4event 02")))
        #expect(!output.writtenFrames.contains(.text("4event 03")))
    }

    @Test func anEmptyBatchQueuesNothingAndCutsNobodyOff() {
        let output = RecordingFrameOutput()
        let sink = WebSocketSink(limit: Self.packetBytes, output: output)
        // A lone frame over the bound is taken when nothing waits; an empty batch after it is no overflow.
        #expect(sink.send([WebSocketFrameBytes(.text(String(repeating: "x", count: 4 * Self.packetBytes)))]))
        #expect(sink.send([]))
        #expect(output.writes.count == 1)
        sink.finish()
        #expect(!sink.send([]))
    }

    @Test func aFinishedSinkSaysSoOnceEveryFrameWasWrittenWithItsCloseStatus() {
        let output = RecordingFrameOutput(runsAtOnce: false)
        let calls = Mutex<[String]>([])
        let sink = WebSocketSink(limit: 1_000, output: output) { status in
            calls.withLock { $0.append(status.map { "\($0.code) \($0.reason)" } ?? "normal") }
        }
        #expect(sink.send(.text("4a")))
        output.runScheduled()
        #expect(sink.send(.text("4b")))
        sink.finish(code: 1013, reason: "Try again later")
        // Not before the frames queued ahead of the finish were handed to the connection.
        #expect(calls.withLock { $0 }.isEmpty)
        output.runScheduled()
        #expect(output.writtenFrames == [.text("4a"), .text("4b")])
        #expect(calls.withLock { $0 } == ["1013 Try again later"])
        // Once: later finishes and sends change nothing.
        sink.finish()
        #expect(!sink.send(.text("4c")))
        output.runScheduled()
        #expect(calls.withLock { $0 } == ["1013 Try again later"])
    }

    @Test func nothingIsAcceptedOnceTheSinkIsFinished() async {
        let output = RecordingFrameOutput()
        let drained = Mutex(false)
        let sink = WebSocketSink(limit: 1_000, output: output) { _ in drained.withLock { $0 = true } }
        #expect(sink.send(.text("4a")))
        sink.finish()
        #expect(!sink.send(.text("4b")))
        #expect(drained.withLock { $0 })
        #expect(output.writtenFrames == [.text("4a")])
    }

    @Test func preparedMessagesAreTheSameBytesOnEverySession() async {
        let event = PreparedEvent("message:received", json: #"{"seq":1}"#)
        #expect(event.text == #"2["message:received",{"seq":1}]"#)
        let outputs = [RecordingFrameOutput(), RecordingFrameOutput()]
        for output in outputs {
            let sink = WebSocketSink(limit: 1_000, output: output)
            let session = Self.session(limit: 1_000, transport: .webSocket(sink))
            #expect(session.send(prepared: [event.message]))
            #expect(output.writtenFrames == [.text(#"42["message:received",{"seq":1}]"#)])
        }
        // Not only equal: one buffer, shared by both sockets.
        let storages = outputs.map { $0.writes[0][0].payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        #expect(storages[0] == storages[1])
        let polling = Self.session(limit: 1_000)
        #expect(polling.send(prepared: [event.message]))
        #expect(await polling.poll() == [.message(.text(event.text))])
    }
}

/// A connection that records what a sink writes. Its peer takes nothing until told to
/// (``peerTakesEverything()``); with `runsAtOnce: false` its event loop runs only when told to.
final class RecordingFrameOutput: WebSocketFrameOutput {
    private struct State {
        var writes: [[WebSocketFrameBytes]] = []
        var scheduled: [@Sendable () -> Void] = []
        var unsent: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let runsAtOnce: Bool

    init(runsAtOnce: Bool = true) {
        self.runsAtOnce = runsAtOnce
    }

    func execute(_ body: @escaping @Sendable () -> Void) {
        if runsAtOnce { body() } else { state.withLock { $0.scheduled.append(body) } }
    }

    func write(_ frames: [WebSocketFrameBytes], completion: @escaping @Sendable () -> Void) {
        state.withLock {
            $0.writes.append(frames)
            $0.unsent.append(completion)
        }
    }

    /// Each write, as the frames it carried (one flush each).
    var writes: [[WebSocketFrameBytes]] { state.withLock { $0.writes } }

    /// Every frame written, in order.
    var writtenFrames: [EngineData] { writes.flatMap { $0.map(\.data) } }

    /// Runs what was scheduled on the event loop.
    func runScheduled() {
        let bodies = state.withLock { state in
            defer { state.scheduled.removeAll() }
            return state.scheduled
        }
        for body in bodies { body() }
    }

    /// The peer reads everything written so far.
    func peerTakesEverything() {
        let completions = state.withLock { state in
            defer { state.unsent.removeAll() }
            return state.unsent
        }
        for completion in completions { completion() }
    }
}
