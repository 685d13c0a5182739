import VoiceFlowCommon

/// Settings of the messages service: the shared ones plus the send limit.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3003 | listen port |
/// | `RATE_LIMIT_MESSAGES_PER_MINUTE` | 120 | messages one user may send per minute (bursts included) |
/// | `RATE_LIMIT_UPLOADS_PER_HOUR` | 60 | files one user may upload per hour |
/// | `ROOM_ACCESS_CACHE_MS` | 5000 | how long a member's access to a room is remembered (0: not at all); room events end it sooner |
/// | `ROOM_ACCESS_CACHE_SIZE` | 10000 | how many (room, user) answers are remembered at most |
public struct MessagesConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration
    /// The per-user send limit, shared by every instance.
    public var sendLimit: RateLimitRule
    /// The per-user upload limit, shared by every instance.
    public var uploadLimit: RateLimitRule
    /// Upload settings.
    public var files: FileSettings
    /// How long an answer of the room access check is kept (zero: never).
    public var accessCacheTTL: Duration
    /// How many answers of the room access check are kept at most.
    public var accessCacheCapacity: Int

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 3003)
        self.sendLimit = try RateLimitRule(
            name: "message-send", variable: "RATE_LIMIT_MESSAGES_PER_MINUTE", default: 120, period: .seconds(60),
            environment: environment)
        self.uploadLimit = try RateLimitRule(
            name: "file-upload", variable: "RATE_LIMIT_UPLOADS_PER_HOUR", default: 60, period: .seconds(3600),
            environment: environment)
        self.files = try FileSettings(environment: environment)
        self.accessCacheTTL = .milliseconds(try environment.int("ROOM_ACCESS_CACHE_MS", default: 5000, in: 0...60_000))
        self.accessCacheCapacity = try environment.int("ROOM_ACCESS_CACHE_SIZE", default: 10_000, in: 1...1_000_000)
    }
}
