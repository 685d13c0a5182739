import CHiredis
import NIOCore

/// Parses RESP with hiredis' reader. Owned by one channel handler, so used from one event loop only.
final class HiredisReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        guard let reader = redisReaderCreate() else { fatalError("hiredis could not allocate a reader") }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Adds received bytes to the reader's buffer.
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw .protocolError(errorText) }
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    func nextReply() throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw .protocolError(errorText) }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.value(of: reply)
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let node = reply.pointee
        func text() -> String {
            guard let str = node.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: node.len), as: UTF8.self)
        }
        switch node.type {
        case REDIS_REPLY_STRING:
            guard let str = node.str else { return .bulkString([]) }
            return .bulkString(Array(UnsafeRawBufferPointer(start: str, count: node.len)))
        case REDIS_REPLY_STATUS:
            return .simpleString(text())
        case REDIS_REPLY_ERROR:
            return .error(text())
        case REDIS_REPLY_INTEGER:
            return .integer(Int(node.integer))
        case REDIS_REPLY_ARRAY:
            guard let elements = node.element else { return .array([]) }
            return .array((0..<node.elements).map { index in elements[index].map(value(of:)) ?? .null })
        default:
            return .null
        }
    }
}

/// Encodes commands with `redisFormatCommandArgv`: binary safe, lengths given explicitly.
enum HiredisCommandEncoder {
    static func encode(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        var lengths = arguments.map(\.count)
        // Keep every argument alive and contiguous while hiredis reads it.
        let storage = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress {
                    UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: bytes.count)
                }
            }
            return pointer
        }
        defer { storage.forEach { $0.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = storage.map { UnsafePointer($0) }
        var command: UnsafeMutablePointer<CChar>?
        let length = argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeMutableBufferPointer { lengthBuffer in
                redisFormatCommandArgv(&command, Int32(arguments.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
            }
        }
        guard let command, length > 0 else { return }
        defer { redisFreeCommand(command) }
        buffer.writeBytes(UnsafeRawBufferPointer(start: command, count: Int(length)))
    }
}
