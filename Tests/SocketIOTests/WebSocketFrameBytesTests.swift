import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import VoiceFlowSocketIO

/// Frames the sink encodes itself (once per broadcast) are byte for byte what NIO's WebSocket
/// frame encoder writes for the same frame, for every length encoding.
@Suite struct WebSocketFrameBytesTests {
    /// NIO's encoding of one unmasked server frame.
    static func encodedByNIO(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeOutbound(WebSocketFrame(fin: true, opcode: opcode, data: payload))
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        _ = try channel.finish()
        return bytes
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65_535, 65_536, 70_000])
    func aTextFrameIsEncodedAsNIOEncodesIt(length: Int) throws {
        let text = String(repeating: "é", count: length / 2) + String(repeating: "x", count: length % 2)
        let frame = WebSocketFrameBytes(.text(text))
        #expect(frame.byteCount == text.utf8.count)
        #expect(Array(frame.wire.readableBytesView) == (try Self.encodedByNIO(.text, ByteBuffer(string: text))))
        #expect(frame.data == .text(text))
    }

    @Test(arguments: [0, 125, 126, 65_536])
    func aBinaryFrameIsEncodedAsNIOEncodesIt(length: Int) throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let frame = WebSocketFrameBytes(.binary(bytes))
        #expect(Array(frame.wire.readableBytesView) == (try Self.encodedByNIO(.binary, ByteBuffer(bytes: bytes))))
        #expect(frame.data == .binary(bytes))
    }
}
