import Foundation
import Synchronization
import Testing

@testable import VoiceFlowSocketIO

/// A connection's events are handled one at a time; a handler learns when its event was read
/// (``Socket/eventReceivedAt``), so a rate limit can meter what the client sent, not how fast the
/// handlers went.
@Suite(.timeLimit(.minutes(1))) struct EventArrivalTests {
    /// Values a handler hands the test, in order.
    final class Inbox<Value: Sendable>: Sendable {
        let values: AsyncStream<Value>
        private let continuation: AsyncStream<Value>.Continuation

        init() { (values, continuation) = AsyncStream.makeStream(of: Value.self) }

        func put(_ value: Value) { continuation.yield(value) }
    }

    static func post(_ engine: EngineServer, sid: String, _ body: String) async -> Int {
        await engine.handle(
            EngineHTTPRequest(method: "POST", query: ["EIO": "4", "transport": "polling", "sid": sid], headers: [:])
        ) { _ in body }.status
    }

    @Test func eventsHandledLateKnowWhenTheyWereRead() async throws {
        let io = SocketIOServer(configuration: SocketIOConfiguration(), logger: .init(label: "event-arrival"))
        let started = Inbox<Void>()
        let gate = Inbox<Void>()
        let stamps = Inbox<ContinuousClock.Instant?>()
        io.sockets.on("hold") { _, _, _ in
            started.put(())
            var opened = gate.values.makeAsyncIterator()
            _ = await opened.next()
        }
        io.sockets.on("stamp") { _, _, _ in stamps.put(Socket.eventReceivedAt) }

        try await HandshakeLimitsTests.running(io) { engine in
            let sid = try HandshakeLimitsTests.sid(of: await HandshakeLimitsTests.handshake(engine, from: "10.0.0.1"))
            #expect(await Self.post(engine, sid: sid, "40\u{1e}42[\"hold\"]") == 200)
            var starts = started.values.makeAsyncIterator()
            _ = await starts.next()
            // The connection's handler is busy: these two are read (the POST answers once they
            // are) and wait their turn.
            #expect(await Self.post(engine, sid: sid, "42[\"stamp\"]\u{1e}42[\"stamp\"]") == 200)
            let read = ContinuousClock.now
            gate.put(())

            var received = stamps.values.makeAsyncIterator()
            let first = try #require(await received.next() ?? nil)
            let second = try #require(await received.next() ?? nil)
            #expect(first < read)
            #expect(second < read)
            #expect(first <= second)
        }
        #expect(Socket.eventReceivedAt == nil)
    }

    @Test func aBucketGoesByTheInstantItIsGivenAndNeverRunsBackwards() {
        var bucket = TokenBucket(rate: 10, burst: 2)
        let start = ContinuousClock.now
        let answers = [
            bucket.take(at: start), bucket.take(at: start),
            // Handled later, but arrived together with the others: no refill.
            bucket.take(at: start),
            // An instant before the last one adds nothing either.
            bucket.take(at: start - .seconds(5)),
            // 150 ms after the first: one token and a half more.
            bucket.take(at: start + .milliseconds(150)), bucket.take(at: start + .milliseconds(150)),
        ]
        #expect(answers == [true, true, false, false, true, false])
    }
}
