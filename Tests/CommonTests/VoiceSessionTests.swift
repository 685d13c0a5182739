import Foundation
import Testing
import VoiceFlowCommon

struct VoiceSessionTests {
    @Test func decodesTheStoredJSONAndSortsOldestFirstThenById() throws {
        let second = Date(timeIntervalSince1970: 1_700_000_000)
        let sessions = [
            VoiceSession(sessionId: "c", roomId: "r", userId: "u3", username: "c", gatewayId: "g", socketId: "s3", joinedAt: second),
            VoiceSession(sessionId: "b", roomId: "r", userId: "u2", username: "b", gatewayId: "g", socketId: "s2", joinedAt: second),
            VoiceSession(sessionId: "z", roomId: "r", userId: "u1", username: "z", gatewayId: "g", socketId: "s1", joinedAt: second - 1),
        ]
        let stored = try sessions.map { Array(try WireDateCoding.encoder().encode($0)) }
        let decoded = try stored.map { try VoiceSession(json: $0) }
        #expect(decoded == sessions)
        #expect(decoded.sorted(by: VoiceSession.oldestFirst).map(\.sessionId) == ["z", "b", "c"])
        #expect(throws: DecodingError.self) { try VoiceSession(json: Array(#"{"sessionId":"x"}"#.utf8)) }
    }
}
