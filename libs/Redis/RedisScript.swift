import Crypto

/// A Lua script, run by ``RedisClient/eval(_:keys:arguments:)`` as EVALSHA with a NOSCRIPT fallback.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// Its SHA-1, as Redis names cached scripts.
    public let sha1: String

    /// Wraps a Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
