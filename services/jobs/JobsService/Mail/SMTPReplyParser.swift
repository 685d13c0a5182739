import NIOCore

/// Reads replies from bytes, joining multi-line replies (`250-first`, `250-second`, ... until
/// `250 last`).
///
/// Lines end with CRLF (a bare LF is tolerated). A line, and the lines of one reply, are bounded:
/// a server cannot make the client buffer without limit.
struct SMTPReplyParser {
    /// The longest reply line accepted (RFC 5321 allows 512 octets).
    static let maximumLineLength = 2048
    /// The most lines in one reply.
    static let maximumLines = 256

    private var code: Int?
    private var lines: [String] = []

    /// Consumes complete lines from `buffer` and returns the first complete reply, or `nil` when
    /// more bytes are needed.
    mutating func nextReply(from buffer: inout ByteBuffer) throws(SMTPWireError) -> SMTPReply? {
        while let line = try nextLine(from: &buffer) {
            if let reply = try add(line) { return reply }
        }
        return nil
    }

    private func nextLine(from buffer: inout ByteBuffer) throws(SMTPWireError) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            guard view.count <= Self.maximumLineLength else { throw .lineTooLong }
            return nil
        }
        let length = view.distance(from: view.startIndex, to: newline)
        guard length <= Self.maximumLineLength, var line = buffer.readBytes(length: length + 1) else {
            throw .lineTooLong
        }
        line.removeLast()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    private mutating func add(_ line: [UInt8]) throws(SMTPWireError) -> SMTPReply? {
        guard line.count >= 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0]),
            line[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else {
            throw .malformedReply
        }
        let code = line[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-"), self.code == nil || self.code == code else {
            throw .malformedReply
        }
        guard lines.count < Self.maximumLines else { throw .tooManyLines }
        lines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        if separator == UInt8(ascii: "-") {
            self.code = code
            return nil
        }
        defer {
            self.code = nil
            lines = []
        }
        return SMTPReply(code: code, lines: lines)
    }
}

/// ``SMTPReplyParser`` in a channel pipeline.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var parser = SMTPReplyParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let reply = try parser.nextReply(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
