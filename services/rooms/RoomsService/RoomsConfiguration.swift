import VoiceFlowCommon

/// Settings of the rooms service: the shared ones (see ``ServiceConfiguration``) plus its limits.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3002 | listen port |
/// | `RATE_LIMIT_ROOM_JOIN_PER_MINUTE` | 30 | join-by-code attempts per user per minute (a code is the key to a private room) |
/// | `RATE_LIMIT_ROOM_JOIN_PER_IP` | 120 | join-by-code attempts per client IP per minute |
/// | `RATE_LIMIT_ROOM_CREATE_PER_HOUR` | 30 | rooms one user may create per hour |
public struct RoomsConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration
    /// Limits shared by every instance.
    public var limits: RoomLimits

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 3002)
        self.limits = RoomLimits(
            joinPerUser: try RateLimitRule(
                name: "room-join-user", variable: "RATE_LIMIT_ROOM_JOIN_PER_MINUTE", default: 30, period: .seconds(60),
                environment: environment),
            joinPerIP: try RateLimitRule(
                name: "room-join-ip", variable: "RATE_LIMIT_ROOM_JOIN_PER_IP", default: 120, period: .seconds(60),
                environment: environment),
            createPerUser: try RateLimitRule(
                name: "room-create", variable: "RATE_LIMIT_ROOM_CREATE_PER_HOUR", default: 30, period: .seconds(3600),
                environment: environment))
    }
}

/// The rooms service's rate limits.
public struct RoomLimits: Sendable {
    /// Join-by-code attempts per user, found or not: guessing codes is slow.
    public var joinPerUser: RateLimitRule
    /// Join-by-code attempts per client IP (guest accounts are cheap, addresses less so).
    public var joinPerIP: RateLimitRule
    /// Room creations per user.
    public var createPerUser: RateLimitRule
}
