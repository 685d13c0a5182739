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
            joinPerUser: RateLimitRule(
                name: "room-join-user", limit: try environment.int("RATE_LIMIT_ROOM_JOIN_PER_MINUTE", default: 30, in: 1...1_000_000),
                period: .seconds(60)),
            joinPerIP: RateLimitRule(
                name: "room-join-ip", limit: try environment.int("RATE_LIMIT_ROOM_JOIN_PER_IP", default: 120, in: 1...1_000_000),
                period: .seconds(60)),
            createPerUser: RateLimitRule(
                name: "room-create", limit: try environment.int("RATE_LIMIT_ROOM_CREATE_PER_HOUR", default: 30, in: 1...1_000_000),
                period: .seconds(3600)))
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
