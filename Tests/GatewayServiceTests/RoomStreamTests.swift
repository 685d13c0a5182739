import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import VoiceFlowCommon

@testable import GatewayService
@testable import VoiceFlowSocketIO

/// One ordered stream per room: every socket gets every message once, in sequence order, with gaps
/// filled by one history read for the room (not one per socket), and the frame encoded once.
@Suite(.timeLimit(.minutes(1))) struct RoomStreamTests {
    static let roomID = UUID().uuidString.lowercased()
    static let otherRoomID = UUID().uuidString.lowercased()

    static func message(_ seq: Int, room: String = roomID) -> MessageDTO {
        MessageDTO(
            id: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", seq))!, roomId: UUID(uuidString: room)!, seq: seq, content: "m\(seq)", type: "text", author: nil, file: nil,
            createdAt: Date(timeIntervalSince1970: 1_700_000_000), editedAt: nil, deletedAt: nil)
    }

    /// History of messages 1...`newest` per room, paged by `pageSize`; a call can be held until released.
    final class FakeHistory: MessageHistory {
        let newest: Mutex<Int>
        let pageSize: Int
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let holdNext = Atomic<Bool>(false)
        /// Calls of `messages(in:after:token:)`.
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
            let data = seq < last ? (seq + 1...last).map { RoomStreamTests.message($0, room: roomID) } : []
            return MessagePage(data: data, total: newest, hasMore: last < newest)
        }

        func latestSeq(in roomID: String, token: String) async throws(GatewayError) -> Int {
            newest.withLock { $0 }
        }

        /// Waits until a call is being held.
        func waitUntilHeld() async {
            while gate.withLock({ $0 == nil }) { await Task.yield() }
        }

        /// Lets the held call go on.
        func release() {
            gate.withLock { value in
                value?.resume()
                value = nil
            }
        }
    }

    /// A session over a polling socket that the test reads.
    struct Reader {
        let session: ChatSession
        let engine: EngineSession
        var decoder = SocketIOPacketDecoder()

        init(io: SocketIOServer, configuration: EngineConfiguration? = nil) {
            engine = EngineSession(
                id: SessionID.make(), handshake: EngineHandshake(query: [:], headers: [:], remoteAddress: nil),
                transport: .polling, configuration: configuration ?? io.configuration.engine)
            let socket = Socket(
                id: SessionID.make(), namespace: io.sockets,
                handshake: SocketHandshake(auth: [:], query: [:], headers: [:], remoteAddress: nil),
                connection: ClientConnection(session: engine, server: io))
            session = ChatSession(
                token: "t",
                verified: VerifiedToken(
                    user: AuthenticatedUser(id: UUID(), username: "reader"), expiresAt: .distantFuture, loginSession: nil),
                socket: socket, budget: ChatSession.Budget(eventsPerSecond: 100))
        }

        /// The (room, seq) of the next `count` `message:received` events, waiting for them to be sent.
        mutating func received(_ count: Int) async throws -> [(room: String, seq: Int)] {
            var seen: [(String, Int)] = []
            while seen.count < count {
                let packets = try #require(await engine.poll())
                for packet in packets where packet.type == .message {
                    guard let data = packet.data, let decoded = try decoder.decode(data), case .array(let values)? = decoded.data,
                        values.first == .string(ServerEventName.messageReceived.rawValue), let body = values.dropFirst().first,
                        let seq = body["seq"]?.intValue, let room = body["roomId"]?.stringValue
                    else { continue }
                    seen.append((room, seq))
                }
            }
            return seen
        }

        mutating func seqs(_ count: Int) async throws -> [Int] {
            try await received(count).map(\.seq)
        }
    }

    static func stream(
        _ history: FakeHistory, room: String = roomID, reorderWait: Duration = .seconds(30), recent: Int = 256,
        flushWindow: Duration = .milliseconds(5)
    ) -> RoomStream {
        var settings = RoomStream.Settings()
        settings.reorderWait = reorderWait
        settings.recentCapacity = recent
        settings.flushWindow = flushWindow
        return RoomStream(roomID: room, history: history, settings: settings, metrics: nil, logger: TestEnvironment.logger("stream"))
    }

    static let io = SocketIOServer(configuration: .init(), logger: TestEnvironment.logger("stream"))

    @Test func outOfOrderPublishesAreDeliveredInOrderWithoutAnyFetch() async throws {
        let history = FakeHistory(newest: 10)
        let stream = Self.stream(history)  // a long reorder wait: 11 arrives well within it
        var readers = (0..<3).map { _ in Reader(io: Self.io) }
        for reader in readers { try await stream.attach(reader.session, after: nil) }
        await stream.receive(Self.message(12))
        await stream.receive(Self.message(11))
        await stream.receive(Self.message(13))
        for index in readers.indices { #expect(try await readers[index].seqs(3) == [11, 12, 13]) }
        #expect(history.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aGapIsFilledWithOneHistoryReadForTheWholeRoom() async throws {
        let history = FakeHistory(newest: 10)
        let stream = Self.stream(history, reorderWait: .milliseconds(1))
        var readers = (0..<5).map { _ in Reader(io: Self.io) }
        for reader in readers { try await stream.attach(reader.session, after: nil) }
        // 11 and 12 were committed, but only 13 is heard live.
        history.newest.withLock { $0 = 13 }
        await stream.receive(Self.message(13))
        for index in readers.indices { #expect(try await readers[index].seqs(3) == [11, 12, 13]) }
        #expect(history.calls.load(ordering: .relaxed) == 1)
        // A late live copy of a filled message is not sent again.
        await stream.receive(Self.message(12))
        await stream.receive(Self.message(14))
        for index in readers.indices { #expect(try await readers[index].seqs(1) == [14]) }
    }

    @Test func aSocketJoiningMidStreamGetsWhatItMissedFromRecentMessagesThenLiveOnes() async throws {
        let history = FakeHistory(newest: 0)
        let stream = Self.stream(history)
        var first = Reader(io: Self.io)
        try await stream.attach(first.session, after: nil)
        for seq in 1...8 { await stream.receive(Self.message(seq)) }
        #expect(try await first.seqs(8) == Array(1...8))
        var late = Reader(io: Self.io)
        try await stream.attach(late.session, after: 5)
        await stream.receive(Self.message(9))
        #expect(try await late.seqs(4) == [6, 7, 8, 9])
        #expect(try await first.seqs(1) == [9])
        #expect(history.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aSocketFarBehindIsCaughtUpFromPagedHistory() async throws {
        let history = FakeHistory(newest: 250, pageSize: 100)
        let stream = Self.stream(history, recent: 16)
        var reader = Reader(io: Self.io)
        try await stream.attach(reader.session, after: 0)
        #expect(try await reader.seqs(250) == Array(1...250))
        #expect(history.calls.load(ordering: .relaxed) == 3)
    }

    @Test func liveMessagesArrivingDuringACatchUpAreSentOnceInOrderAfterIt() async throws {
        let history = FakeHistory(newest: 5)
        let stream = Self.stream(history, recent: 0)
        var reader = Reader(io: Self.io)
        history.holdNext.store(true, ordering: .relaxed)
        let session = reader.session
        async let attached: Void = stream.attach(session, after: 2)
        await history.waitUntilHeld()
        // While history is being read, 6 and 7 are committed and arrive live (7 first).
        history.newest.withLock { $0 = 7 }
        await stream.receive(Self.message(7))
        await stream.receive(Self.message(6))
        history.release()
        try await attached
        await stream.receive(Self.message(8))
        await stream.receive(Self.message(8))  // a duplicate
        await stream.receive(Self.message(9))
        #expect(try await reader.seqs(7) == [3, 4, 5, 6, 7, 8, 9])
    }

    @Test func oneSocketInTwoRoomsGetsEachRoomsStreamInItsOwnOrder() async throws {
        let history = FakeHistory(newest: 0)
        let first = Self.stream(history, room: Self.roomID)
        let second = Self.stream(history, room: Self.otherRoomID)
        var reader = Reader(io: Self.io)
        try await first.attach(reader.session, after: nil)
        try await second.attach(reader.session, after: nil)
        await first.receive(Self.message(2))
        await second.receive(Self.message(1, room: Self.otherRoomID))
        await first.receive(Self.message(1))
        await second.receive(Self.message(2, room: Self.otherRoomID))
        let received = try await reader.received(4)
        #expect(received.filter { $0.room == Self.roomID }.map(\.seq) == [1, 2])
        #expect(received.filter { $0.room == Self.otherRoomID }.map(\.seq) == [1, 2])
        await first.detach(socketID: reader.session.socket.id)
        await first.receive(Self.message(3))
        await second.receive(Self.message(3, room: Self.otherRoomID))
        #expect(try await reader.received(1).map(\.room) == [Self.otherRoomID])
    }

    @Test func aSlowConsumerIsCutOffByBytesAndTheOthersGoOn() async throws {
        let history = FakeHistory(newest: 0)
        let stream = Self.stream(history)
        var engine = EngineConfiguration()
        engine.maxBufferedBytes = 4 * 1024
        engine.slowConsumerNotice = .text(#"2["error",{"code":"SLOW_CONSUMER"}]"#)
        let slow = Reader(io: Self.io, configuration: engine)
        var fast = Reader(io: Self.io)
        try await stream.attach(slow.session, after: nil)
        try await stream.attach(fast.session, after: nil)
        // About 200 bytes each: the slow reader, who never reads, overflows its 4 KiB after ~20.
        for seq in 1...60 {
            var message = Self.message(seq)
            message.content = String(repeating: "x", count: 100)
            await stream.receive(message)
            #expect(try await fast.seqs(1) == [seq])
        }
        #expect(slow.engine.closeReason == .slowConsumer)
        let queued = try #require(await slow.engine.poll())
        #expect(queued.count < 30)
        #expect(Array(queued.suffix(2)) == [.message(.text(#"2["error",{"code":"SLOW_CONSUMER"}]"#)), EnginePacket(.close)])
    }

    @Test func everySocketIsHandedTheSameFrame() async throws {
        let history = FakeHistory(newest: 0)
        let stream = Self.stream(history)
        let readers = (0..<2).map { _ in Reader(io: Self.io) }
        for reader in readers { try await stream.attach(reader.session, after: nil) }
        await stream.receive(Self.message(1))
        let frames = await [readers[0].engine.poll(), readers[1].engine.poll()]
        #expect(frames[0] == frames[1])
        // `42["message:received", <the message as the REST API encodes it>]`
        var decoder = SocketIOPacketDecoder()
        let data = try #require(frames[0]?.first?.data)
        let packet = try #require(try decoder.decode(data))
        let arguments = try #require(packet.data?.arrayValue)
        #expect(arguments.first == .string("message:received"))
        #expect(try arguments[1].decode(MessageDTO.self, decoder: WireDateCoding.decoder()) == Self.message(1))
    }

    @Test func aQuietRoomsMessageIsWrittenAtOnceAndABusyRoomsWaitForTheWindow() async throws {
        let history = FakeHistory(newest: 0)
        // A window long enough that nothing below can reach its end unnoticed.
        let stream = Self.stream(history, flushWindow: .seconds(2))
        var reader = Reader(io: Self.io)
        try await stream.attach(reader.session, after: nil)
        await stream.receive(Self.message(1))
        #expect(await stream.unsentMessageCount == 0)
        #expect(try await reader.seqs(1) == [1])
        // Within the window of that write: held, then written together, in order.
        for seq in 2...4 { await stream.receive(Self.message(seq)) }
        #expect(await stream.unsentMessageCount == 3)
        let packets = try #require(await reader.engine.poll())
        #expect(packets.count == 3)
        #expect(await stream.unsentMessageCount == 0)
    }

    /// What each of several readers received, shared between the tasks that read.
    final class Received: Sendable {
        private let seqs: Mutex<[[Int]]>
        init(readers: Int) { seqs = Mutex(Array(repeating: [], count: readers)) }
        subscript(index: Int) -> [Int] { seqs.withLock { $0[index] } }
        var all: [[Int]] { seqs.withLock { $0 } }
        func append(_ more: [Int], to index: Int) { seqs.withLock { $0[index] += more } }
    }

    @Test func shuffledAndLostPublishesStillReachEverySocketOnceInOrder() async throws {
        let history = FakeHistory(newest: 0, pageSize: 50)
        let stream = Self.stream(history, reorderWait: .milliseconds(1), flushWindow: .milliseconds(2))
        let readers = (0..<3).map { _ in Reader(io: Self.io) }
        for reader in readers { try await stream.attach(reader.session, after: nil) }
        var generator = SystemRandomNumberGenerator()
        let total = 1_000
        let seen = Received(readers: readers.count)
        let reading = readers.indices.map { index in
            Task { [reader = readers[index]] in
                var reader = reader
                while seen[index].count <= total {
                    let seqs = try await reader.seqs(1)
                    seen.append(seqs, to: index)
                }
            }
        }
        // Committed in order, published in any order within a few, and one in twenty never heard live.
        for start in stride(from: 1, through: total, by: 5) {
            let chunk = Array(start...min(start + 4, total))
            history.newest.withLock { $0 = chunk.last! }
            for seq in chunk.shuffled(using: &generator) where Int.random(in: 0..<20, using: &generator) != 0 {
                await stream.receive(Self.message(seq))
            }
            if Bool.random(using: &generator) { await Task.yield() }
        }
        // The last ones may all have been lost: the next message reveals the gap.
        history.newest.withLock { $0 = total + 1 }
        await stream.receive(Self.message(total + 1))
        // Waits for every message (a reader missing one would wait for ever: ten seconds are plenty).
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.all.contains(where: { $0.count <= total }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        reading.forEach { $0.cancel() }
        for (index, seqs) in seen.all.enumerated() {
            let missing = Set(1...total + 1).subtracting(seqs).sorted()
            #expect(seqs == Array(1...total + 1), "reader \(index): \(seqs.count) received, missing \(missing.prefix(20))")
        }
    }

    @Test func aSocketLeavingMidWindowIsStillWrittenWhatItWasGiven() async throws {
        let history = FakeHistory(newest: 0)
        let stream = Self.stream(history, flushWindow: .seconds(30))
        var reader = Reader(io: Self.io)
        try await stream.attach(reader.session, after: nil)
        await stream.receive(Self.message(1))
        await stream.receive(Self.message(2))
        #expect(await stream.unsentMessageCount == 1)
        await stream.detach(socketID: reader.session.socket.id)
        #expect(try await reader.seqs(2) == [1, 2])
        #expect(await stream.unsentMessageCount == 0)
    }

    @Test func theEventBudgetAllowsABurstThenRefuses() {
        var bucket = TokenBucket(rate: 1000, burst: 3)
        let burst = [bucket.take(), bucket.take(), bucket.take()]
        let fourth = bucket.take()
        #expect(burst == [true, true, true])
        #expect(!fourth)
    }
}
