import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLineAndRedactsSecrets() throws {
        let lines = NIOLockedValueBox<[Data]>([])
        let sink = JSONLogSink { line in lines.withLockedValue { $0.append(line) } }
        var logger = Logger(label: "unit") { JSONLogHandler(label: $0, logLevel: .debug, sink: sink) }
        logger[metadataKey: "request.id"] = "req-1"
        logger.info("User logged in", metadata: ["user.id": "u1", "password": "hunter22", "token": "abc.def"])

        let written = lines.withLockedValue { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == 0x0A)
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["message"] as? String == "User logged in")
        #expect(object["level"] as? String == "info")
        #expect(object["request.id"] as? String == "req-1")
        #expect(object["user.id"] as? String == "u1")
        #expect(object["password"] as? String == "[redacted]")
        #expect(object["token"] as? String == "[redacted]")
        #expect(!String(decoding: line, as: UTF8.self).contains("hunter22"))
    }

    @Test func respectsTheLevel() {
        let lines = NIOLockedValueBox<Int>(0)
        let sink = JSONLogSink { _ in lines.withLockedValue { $0 += 1 } }
        let logger = Logger(label: "unit") { JSONLogHandler(label: $0, logLevel: .warning, sink: sink) }
        logger.info("dropped")
        logger.warning("kept")
        #expect(lines.withLockedValue { $0 } == 1)
    }
}
