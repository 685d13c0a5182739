import Foundation
import Logging
import Synchronization
import Testing

@testable import VoiceFlowSocketIO

/// An engine whose sessions hand their messages to a receiver each (as Socket.IO's do): no task
/// per open session, messages in order, and the receiver's end once the session closes.
@Suite(.timeLimit(.minutes(1))) struct EngineReceiverTests {
    /// Records what a session hands it; `ends` yields once per `sessionEnded`.
    final class RecordingReceiver: EngineSessionReceiver {
        let events = Mutex<[String]>([])
        let ends: AsyncStream<Void>
        private let endsContinuation: AsyncStream<Void>.Continuation

        init() {
            (ends, endsContinuation) = AsyncStream.makeStream(of: Void.self)
        }

        func start() { events.withLock { $0.append("start") } }

        func receive(_ message: EngineData) {
            guard case .text(let text) = message else { return }
            events.withLock { $0.append(text) }
        }

        func sessionEnded() async {
            events.withLock { $0.append("end") }
            endsContinuation.yield()
        }
    }

    static func request(_ method: String, sid: String? = nil, body: String? = nil) -> EngineHTTPRequest {
        var query = ["EIO": "4", "transport": "polling"]
        query["sid"] = sid
        return EngineHTTPRequest(method: method, query: query, headers: [:], remoteAddress: "10.0.0.1")
    }

    /// An engine whose every session gets a ``RecordingReceiver``, and the receivers it made.
    static func recordingEngine() -> (EngineServer, Receivers) {
        let receivers = Receivers()
        let engine = EngineServer(configuration: EngineConfiguration(), logger: Logger(label: "receiver")) { _ in
            let receiver = RecordingReceiver()
            receivers.all.withLock { $0.append(receiver) }
            return receiver
        }
        return (engine, receivers)
    }

    final class Receivers: Sendable {
        let all = Mutex<[RecordingReceiver]>([])
    }

    @Test func messagesArriveInOrderAndTheEndComesOnceAfterThem() async throws {
        let (engine, receivers) = Self.recordingEngine()
        let runner = Task { try await engine.run() }
        defer {
            engine.shutdown()
            runner.cancel()
        }
        let opened = await engine.handle(Self.request("GET")) { _ in nil }
        let sid = try HandshakeLimitsTests.sid(of: opened)
        let receiver = try #require(receivers.all.withLock { $0.first })

        let posted = await engine.handle(Self.request("POST", sid: sid)) { _ in "4one\u{1e}4two" }
        #expect(posted.status == 200)
        #expect(await engine.handle(Self.request("POST", sid: sid)) { _ in "4three" }.status == 200)
        #expect(receiver.events.withLock { $0 } == ["start", "one", "two", "three"])

        // The client closes: the receiver's end runs once, after every message.
        #expect(await engine.handle(Self.request("POST", sid: sid)) { _ in "1" }.status == 200)
        var ends = receiver.ends.makeAsyncIterator()
        _ = await ends.next()
        #expect(receiver.events.withLock { $0 } == ["start", "one", "two", "three", "end"])
        // Nothing more reaches it.
        #expect(await engine.handle(Self.request("POST", sid: sid)) { _ in "4late" }.status == 400)
        #expect(receiver.events.withLock { $0 }.last == "end")
    }

    @Test func sessionsOpenAtShutdownAreEndedToo() async throws {
        let (engine, receivers) = Self.recordingEngine()
        let runner = Task { try await engine.run() }
        for _ in 0..<3 { _ = await engine.handle(Self.request("GET")) { _ in nil } }
        engine.shutdown()
        // run() returns once every session's end has run.
        try await runner.value
        let ended = receivers.all.withLock { $0 }.map { $0.events.withLock { $0 }.filter { $0 == "end" }.count }
        #expect(ended == [1, 1, 1])
    }
}
