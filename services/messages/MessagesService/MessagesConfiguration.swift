import VoiceFlowCommon

/// Settings of the messages service: the shared ones plus the send limit.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3003 | listen port |
/// | `RATE_LIMIT_MESSAGES_PER_MINUTE` | 120 | messages one user may send per minute (bursts included) |
/// | `RATE_LIMIT_UPLOADS_PER_HOUR` | 60 | files one user may upload per hour |
public struct MessagesConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration
    /// The per-user send limit, shared by every instance.
    public var sendLimit: RateLimitRule
    /// The per-user upload limit, shared by every instance.
    public var uploadLimit: RateLimitRule
    /// Upload settings.
    public var files: FileSettings

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
    }
}
