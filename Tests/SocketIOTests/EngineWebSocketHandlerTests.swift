import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import VoiceFlowSocketIO

/// The WebSocket protocol as ``EngineWebSocketHandler`` speaks it, on a test channel whose
/// pipeline is that of an upgraded connection (NIO's frame encoder, then the handler), with an
/// Engine.IO echo server behind it.
@Suite(.timeLimit(.minutes(1))) struct EngineWebSocketHandlerTests {
    /// A connection to an echo engine: what the client sends, and the frames the server writes.
    struct Connection {
        let channel = NIOAsyncTestingChannel()
        let engine: EngineServer
        private var received = ByteBuffer()

        init(maxPayload: Int = 1_000) async throws {
            var configuration = EngineConfiguration()
            configuration.maxPayload = maxPayload
            engine = EngineServer(configuration: configuration, logger: Logger(label: "ws-handler")) { session in
                for await message in session.messages { session.send([message]) }
            }
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
            let (channel, engine) = (channel, engine)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
                try EngineWebSocketHandler.install(
                    on: channel, server: engine,
                    handshake: EngineHandshake(query: ["EIO": "4", "transport": "websocket"], headers: [:], remoteAddress: nil),
                    closeTimeout: .seconds(5))
            }.get()
        }

        /// Sends a frame as a client does: masked, unless told otherwise.
        func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) async throws {
            var data = ByteBuffer(bytes: payload)
            let key = masked ? WebSocketMaskingKey([7, 1, 9, 3]) : nil
            if let key { data.webSocketMask(key) }
            try await channel.writeInbound(WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: data))
        }

        func send(text: String, fin: Bool = true) async throws {
            try await send(.text, Array(text.utf8), fin: fin)
        }

        /// The next frame the server wrote: its opcode and payload.
        mutating func nextFrame() async throws -> (opcode: UInt8, payload: [UInt8]) {
            while true {
                if let frame = Self.parse(&received) { return frame }
                // Work the handler queued on the loop itself (a sink's drain) runs when the loop is run.
                await channel.testingEventLoop.run()
                if var buffer = try await channel.readOutbound(as: ByteBuffer.self) {
                    received.writeBuffer(&buffer)
                    continue
                }
                var buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
                received.writeBuffer(&buffer)
            }
        }

        /// The next frame's payload as text.
        mutating func nextText() async throws -> String {
            String(decoding: try await nextFrame().payload, as: UTF8.self)
        }

        /// The server's close frame: its code.
        mutating func nextClose() async throws -> UInt16? {
            let frame = try await nextFrame()
            #expect(frame.opcode == 0x8)
            guard frame.payload.count >= 2 else { return nil }
            return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
        }

        /// One unmasked frame off the front of `buffer`, if it holds a whole one.
        private static func parse(_ buffer: inout ByteBuffer) -> (opcode: UInt8, payload: [UInt8])? {
            var peek = buffer
            guard let first = peek.readInteger(as: UInt8.self), let second = peek.readInteger(as: UInt8.self) else { return nil }
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let extended = peek.readInteger(as: UInt16.self) else { return nil }
                length = Int(extended)
            } else if length == 127 {
                guard let extended = peek.readInteger(as: UInt64.self) else { return nil }
                length = Int(extended)
            }
            guard let payload = peek.readBytes(length: length) else { return nil }
            buffer = peek
            buffer.discardReadBytes()
            return (first & 0x0F, payload)
        }
    }

    /// Runs `body` with a connection whose engine is running.
    static func withConnection(maxPayload: Int = 1_000, _ body: (inout Connection) async throws -> Void) async throws {
        var connection = try await Connection(maxPayload: maxPayload)
        let engine = connection.engine
        let running = Task { try await engine.run() }
        defer {
            engine.shutdown()
            running.cancel()
        }
        // The open packet comes first.
        #expect(try await connection.nextText().hasPrefix("0{\"sid\":"))
        try await body(&connection)
    }

    @Test func aFragmentedMessageIsHandedOnWhole() async throws {
        try await Self.withConnection { connection in
            try await connection.send(text: "4hel", fin: false)
            try await connection.send(.continuation, Array("lo, ".utf8), fin: false)
            try await connection.send(.continuation, Array("wörld".utf8))
            #expect(try await connection.nextText() == "4hello, wörld")
        }
    }

    @Test func aPingIsAnsweredWithItsPayload() async throws {
        try await Self.withConnection { connection in
            try await connection.send(.ping, [1, 2, 3])
            let pong = try await connection.nextFrame()
            #expect(pong.opcode == 0xA)
            #expect(pong.payload == [1, 2, 3])
            // The connection goes on.
            try await connection.send(text: "4after")
            #expect(try await connection.nextText() == "4after")
        }
    }

    @Test func textThatIsNotUTF8ClosesWith1007() async throws {
        try await Self.withConnection { connection in
            try await connection.send(.text, [0x34, 0xC3, 0x28])
            #expect(try await connection.nextClose() == 1007)
        }
    }

    @Test func anUnmaskedFrameClosesWith1002() async throws {
        try await Self.withConnection { connection in
            try await connection.send(.text, Array("4x".utf8), masked: false)
            #expect(try await connection.nextClose() == 1002)
        }
    }

    @Test func aContinuationWithoutAStartClosesWith1002() async throws {
        try await Self.withConnection { connection in
            try await connection.send(.continuation, Array("4x".utf8))
            #expect(try await connection.nextClose() == 1002)
        }
    }

    @Test func aNewMessageInsideAFragmentedOneClosesWith1002() async throws {
        try await Self.withConnection { connection in
            try await connection.send(text: "4a", fin: false)
            try await connection.send(text: "4b")
            #expect(try await connection.nextClose() == 1002)
        }
    }

    @Test func fragmentsBeyondMaxPayloadCloseWith1009() async throws {
        try await Self.withConnection(maxPayload: 100) { connection in
            try await connection.send(text: "4" + String(repeating: "a", count: 60), fin: false)
            try await connection.send(.continuation, Array(String(repeating: "b", count: 60).utf8))
            #expect(try await connection.nextClose() == 1009)
        }
    }

    @Test func aClientsCloseIsAnsweredWithItsCodeAndTheConnectionCloses() async throws {
        try await Self.withConnection { connection in
            try await connection.send(.connectionClose, [0x03, 0xE8])  // 1000
            #expect(try await connection.nextClose() == 1000)
            try await connection.channel.closeFuture.get()
        }
    }

    /// The server shuts down: the session says why (Engine.IO `close`), then the WebSocket close
    /// goes out, and the connection stays open for the client's answer.
    static func serverCloses(_ connection: inout Connection) async throws {
        connection.engine.shutdown()
        #expect(try await connection.nextText() == "1")
        #expect(try await connection.nextClose() == 1000)
        #expect(connection.channel.isActive)
    }

    @Test func theServersCloseWaitsForTheClientsAnswer() async throws {
        try await Self.withConnection { connection in
            try await Self.serverCloses(&connection)
            try await connection.send(.connectionClose, [0x03, 0xE8])
            try await connection.channel.closeFuture.get()
        }
    }

    @Test func aClientThatNeverAnswersTheCloseIsDroppedAfterTheTimeout() async throws {
        try await Self.withConnection { connection in
            try await Self.serverCloses(&connection)
            await connection.channel.testingEventLoop.advanceTime(by: .seconds(6))
            try await connection.channel.closeFuture.get()
        }
    }
}
