/// Errors of the Redis client. Callers map them to their own API errors; their text may include what
/// Redis said, so it is for logs, never for end users.
public enum RedisError: Error, Sendable, Equatable {
    /// Redis answered with an error reply (`WRONGTYPE ...`, `NOSCRIPT ...`).
    case server(String)
    /// The connection was lost or could not be made; an in-flight command may or may not have run.
    case connectionClosed
    /// Connecting or a command took longer than its timeout.
    case timeout
    /// The reply stream could not be parsed.
    case protocolError(String)
    /// `REDIS_URL` could not be parsed.
    case invalidURL(String)
    /// The client was shut down.
    case clientClosed
}
