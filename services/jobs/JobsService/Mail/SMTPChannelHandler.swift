import NIOCore

/// Bytes to write (or none) and the promise for the reply that answers them.
struct SMTPRequest: Sendable {
    /// The command or message data; `nil` waits for a reply without writing (the greeting).
    var payload: ByteBuffer?
    /// Completed with the next reply, or failed when the connection breaks.
    var reply: EventLoopPromise<SMTPReply>

    /// A command line, CRLF-terminated.
    static func command(_ line: String) -> ByteBuffer {
        ByteBuffer(string: line + "\r\n")
    }

    /// Message content for DATA: lines starting with `.` get another `.` (RFC 5321 §4.5.2), the
    /// last line ends with CRLF, and `.` CRLF ends the data.
    static func data(_ content: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(content.utf8.count + content.utf8.count / 64 + 5)
        var atLineStart = true
        for byte in content.utf8 {
            if atLineStart && byte == UInt8(ascii: ".") {
                buffer.writeInteger(UInt8(ascii: "."))
            }
            buffer.writeInteger(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        if !atLineStart {
            buffer.writeString("\r\n")
        }
        buffer.writeString(".\r\n")
        return buffer
    }
}

/// Pairs each request with the reply that answers it.
///
/// The client sends one command at a time (no pipelining), so at most one request waits; the
/// greeting, which may arrive before anyone asks for it, is the one reply kept unclaimed. A
/// reply nobody can claim is a protocol error and closes the connection.
///
/// A NIO handler: every member is touched on its channel's event loop only.
final class SMTPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = ByteBuffer

    private var pending: EventLoopPromise<SMTPReply>?
    private var unclaimed: SMTPReply?
    private let closeReason: EventLoopPromise<Void>

    /// `closeReason` fails with the first error seen, or ``SMTPWireError/connectionClosed``.
    init(closeReason: EventLoopPromise<Void>) {
        self.closeReason = closeReason
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil, request.payload == nil || unclaimed == nil else {
            request.reply.fail(SMTPWireError.unexpectedReply)
            promise?.fail(SMTPWireError.unexpectedReply)
            context.close(promise: nil)
            return
        }
        guard let payload = request.payload else {
            if let reply = unclaimed {
                unclaimed = nil
                request.reply.succeed(reply)
            } else {
                pending = request.reply
            }
            promise?.succeed()
            return
        }
        pending = request.reply
        context.write(wrapOutboundOut(payload), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let promise = pending {
            pending = nil
            promise.succeed(reply)
        } else if unclaimed == nil {
            unclaimed = reply
        } else {
            context.fireErrorCaught(SMTPWireError.unexpectedReply)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(with: error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(with: SMTPWireError.connectionClosed)
        context.fireChannelInactive()
    }

    /// A channel that never connected is torn down without becoming inactive: its promises still end.
    func handlerRemoved(context: ChannelHandlerContext) {
        fail(with: SMTPWireError.connectionClosed)
    }

    /// Fails the waiting request; the first error becomes the close reason (later ones are ignored).
    private func fail(with error: any Error) {
        closeReason.fail(error)
        pending?.fail(error)
        pending = nil
    }
}
