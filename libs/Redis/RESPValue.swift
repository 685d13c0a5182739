/// A Redis reply (RESP2, as hiredis 0.14 parses it).
public enum RESPValue: Sendable, Hashable {
    /// A null bulk string or null array.
    case null
    /// A status reply such as `OK`.
    case simpleString(String)
    /// An error reply; `send` throws it as ``RedisError/server(_:)``, pipelines return it in place.
    case error(String)
    /// An integer reply.
    case integer(Int)
    /// A binary-safe bulk string.
    case bulkString([UInt8])
    /// An array reply, possibly nested.
    case array([RESPValue])

    /// Status, bulk or error text as UTF-8.
    public var string: String? {
        switch self {
        case .simpleString(let text), .error(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// An integer, or a string reply that parses as one.
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .simpleString, .bulkString: string.flatMap { Int($0) }
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RESPValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// The raw bytes of a bulk or status reply.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// Whether this is a null reply.
    public var isNull: Bool {
        self == .null
    }
}
