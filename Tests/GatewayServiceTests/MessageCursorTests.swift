import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import VoiceFlowCommon

@testable import GatewayService
@testable import VoiceFlowSocketIO

/// The per-socket ordering guarantee: every message once, in sequence order, gaps filled from
/// history before anything newer, whatever order live events and history arrive in.
@Suite(.timeLimit(.minutes(1))) struct MessageCursorTests {
    static let roomID = UUID().uuidString.lowercased()

    static func message(_ seq: Int) -> MessageDTO {
        MessageDTO(
            id: UUID(), roomId: UUID(uuidString: roomID)!, seq: seq, content: "m\(seq)", type: "text", author: nil, file: nil,
            createdAt: Date(), editedAt: nil, deletedAt: nil)
    }

    /// History of messages 1...`newest`, paged by `pageSize`; a call can be held until released.
    final class FakeHistory: MessageHistory {
        let newest: Mutex<Int>
        let pageSize: Int
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holdNext = Atomic<Bool>(false)
        let calls = Atomic<Int>(0)

        init(newest: Int, pageSize: Int = 100) {
            self.newest = Mutex(newest)
            self.pageSize = pageSize
        }

        func messages(in roomID: String, after seq: Int, token: String) async throws(GatewayError) -> MessagePage {
            calls.add(1, ordering: .relaxed)
            if holdNext.exchange(false, ordering: .relaxed) {
                await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
            }
            let newest = self.newest.withLock { $0 }
            let last = min(newest, seq + pageSize)
            let data = seq < last ? (seq + 1...last).map(MessageCursorTests.message) : []
            return MessagePage(data: data, total: newest, hasMore: last < newest)
        }

        func latestSeq(in roomID: String, token: String) async throws(GatewayError) -> Int {
            newest.withLock { $0 }
        }

        /// Waits until a call is being held.
        func waitUntilHeld() async {
            while gate.withLock({ $0 == nil }) { await Task.yield() }
        }

        /// Lets a held call go on; waits until a call is being held.
        func release() async {
            while true {
                if let continuation = gate.withLock({ value -> CheckedContinuation<Void, Never>? in
                    defer { value = nil }
                    return value
                }) {
                    continuation.resume()
                    return
                }
                await Task.yield()
            }
        }
    }

    /// A session over a polling socket, and a way to read the sequence numbers it was sent.
    static func session(history: FakeHistory) async throws -> (ChatSession, EngineSession) {
        let io = SocketIOServer(configuration: .init(), logger: TestEnvironment.logger("cursor"))
        let engineSession = EngineSession(
            id: SessionID.make(), handshake: EngineHandshake(query: [:], headers: [:], remoteAddress: nil),
            transport: .polling, configuration: io.configuration.engine)
        let socket = Socket(
            id: SessionID.make(), namespace: io.sockets,
            handshake: SocketHandshake(auth: [:], query: [:], headers: [:], remoteAddress: nil),
            connection: ClientConnection(session: engineSession, server: io))
        let session = ChatSession(
            user: AuthenticatedUser(id: UUID(), username: "reader"), token: "t", socket: socket, history: history,
            eventsPerSecond: 100, logger: TestEnvironment.logger("cursor"))
        return (session, engineSession)
    }

    /// The `seq` of every `message:received` sent so far (the socket's queue is read, not waited on
    /// beyond what is there: callers only read after the session finished sending).
    static func sentSeqs(_ engineSession: EngineSession, expecting count: Int) async throws -> [Int] {
        var seqs: [Int] = []
        var decoder = SocketIOPacketDecoder()
        while seqs.count < count {
            let packets = try #require(await engineSession.poll())
            for packet in packets where packet.type == .message {
                guard let data = packet.data, let decoded = try decoder.decode(data), case .array(let values)? = decoded.data,
                    values.first == "message:received", let seq = values.dropFirst().first?["seq"]?.intValue
                else { continue }
                seqs.append(seq)
            }
        }
        return seqs
    }

    @Test func joinWithLastSeqSendsTheMissedMessagesThenTheLiveOnesHeldMeanwhile() async throws {
        let history = FakeHistory(newest: 5)
        let (session, engine) = try await Self.session(history: history)
        #expect(await session.open(Self.roomID))
        history.holdNext.store(true, ordering: .relaxed)
        async let caughtUp: Void = session.catchUp(Self.roomID, after: 2)
        // While history is being read, 6 and 7 are committed and arrive live (7 first): they wait.
        await history.waitUntilHeld()
        history.newest.withLock { $0 = 7 }
        await session.deliver(Self.message(7))
        await session.deliver(Self.message(6))
        await history.release()
        await caughtUp
        await session.deliver(Self.message(8))
        await session.deliver(Self.message(8))  // a duplicate
        history.newest.withLock { $0 = 9 }
        await session.deliver(Self.message(9))
        #expect(try await Self.sentSeqs(engine, expecting: 7) == [3, 4, 5, 6, 7, 8, 9])
    }

    @Test func aLiveGapIsFilledFromHistoryBeforeTheNewerMessage() async throws {
        let history = FakeHistory(newest: 10)
        let (session, engine) = try await Self.session(history: history)
        #expect(await session.open(Self.roomID))
        await session.catchUp(Self.roomID, after: nil)  // starts at the newest: 10
        history.newest.withLock { $0 = 13 }
        await session.deliver(Self.message(13))  // 11 and 12 were missed live
        await session.deliver(Self.message(12))  // late duplicate
        await session.deliver(Self.message(14))
        #expect(try await Self.sentSeqs(engine, expecting: 4) == [11, 12, 13, 14])
    }

    @Test func longHistoriesArePaged() async throws {
        let history = FakeHistory(newest: 250, pageSize: 100)
        let (session, engine) = try await Self.session(history: history)
        #expect(await session.open(Self.roomID))
        await session.catchUp(Self.roomID, after: 0)
        #expect(try await Self.sentSeqs(engine, expecting: 250) == Array(1...250))
        #expect(history.calls.load(ordering: .relaxed) >= 3)
    }

    @Test func messagesOfRoomsNotOpenAreNotSent() async throws {
        let history = FakeHistory(newest: 0)
        let (session, engine) = try await Self.session(history: history)
        await session.deliver(Self.message(1))
        #expect(await session.open(Self.roomID))
        await session.catchUp(Self.roomID, after: 0)
        history.newest.withLock { $0 = 2 }
        await session.deliver(Self.message(2))
        // Only what was sent after opening: history gave 1, then 2 arrived live.
        #expect(try await Self.sentSeqs(engine, expecting: 2) == [1, 2])
    }

    @Test func theEventBudgetAllowsABurstThenRefuses() {
        var bucket = TokenBucket(rate: 1000, burst: 3)
        let burst = [bucket.take(), bucket.take(), bucket.take()]
        let fourth = bucket.take()
        #expect(burst == [true, true, true])
        #expect(!fourth)
    }
}
