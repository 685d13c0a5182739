import Foundation
import TestSupport
import Testing
import VoiceFlowCommon

@testable import GatewayService
@testable import VoiceFlowSocketIO

/// `voice:speaking` is throttled per socket: a change inside the window waits for its end, and only
/// the latest state asked for by then is made public, and only if it differs from the last one.
@Suite(.timeLimit(.minutes(1))) struct SpeakingThrottleTests {
    static let io = SocketIOServer(configuration: .init(), logger: TestEnvironment.logger("speaking"))

    @Test func aChatteringDetectorCostsOneChangePerWindowAndKeepsTheLastWord() async throws {
        let session = RoomStreamTests.Reader(io: Self.io).session
        let (applied, sink) = AsyncStream.makeStream(of: Bool.self)
        let apply: @Sendable (Bool) async -> Void = { sink.yield($0) }
        var values = applied.makeAsyncIterator()
        let window = Duration.seconds(1)

        await session.requestSpeaking(true, session: "s1", window: window, apply: apply)
        #expect(await values.next() == true)
        // Inside the window: off and on again is no change once the window ends; then off is.
        await session.requestSpeaking(false, session: "s1", window: window, apply: apply)
        await session.requestSpeaking(true, session: "s1", window: window, apply: apply)
        await session.requestSpeaking(false, session: "s1", window: window, apply: apply)
        await session.requestSpeaking(true, session: "s1", window: window, apply: apply)
        await session.requestSpeaking(false, session: "s1", window: window, apply: apply)
        #expect(await values.next() == false)
        // A new voice session starts from "not speaking": asking for that is no change.
        await session.requestSpeaking(false, session: "s2", window: window, apply: apply)
        await session.requestSpeaking(true, session: "s2", window: window, apply: apply)
        #expect(await values.next() == true)
        await session.stopSpeaking()
        sink.finish()
        #expect(await values.next() == nil)
    }
}
