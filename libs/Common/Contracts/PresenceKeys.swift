/// The Redis keys of presence that more than the gateways read: the gateways write them all; the
/// signaling service reads which gateways are alive and which sockets they hold (its voice sweep).
/// The hash tag puts them in one Redis Cluster slot.
public enum PresenceKeys {
    public static let prefix = "vf:{presence}:"
    /// Hash gatewayId → until when (Unix ms) the gateway counts as alive.
    public static let alive = prefix + "alive"
    /// Hash socketId → `"<gatewayId>|<status>"`: a user's open sockets.
    public static func user(_ userID: String) -> String { prefix + "user:" + userID }
}
