import Foundation

/// Published by auth on ``channel`` when a login session (a refresh-token family) ends before its
/// access tokens expire: signed out, or revoked because one of its refresh tokens was used twice.
/// Gateways disconnect the sockets that authenticated with a token of that session.
public struct LoginSessionEnded: Codable, Sendable, Equatable {
    /// The Redis channel every gateway listens on.
    public static let channel = "vf:auth:sessions-ended"

    /// Why the session ended.
    public enum Reason: String, Codable, Sendable {
        case signedOut = "signed_out"
        case revoked
    }

    /// The session's holder.
    public var userId: String
    /// The session (the `sid` claim of its access tokens).
    public var sessionId: String
    public var reason: Reason

    public init(userId: String, sessionId: String, reason: Reason) {
        self.userId = userId
        self.sessionId = sessionId
        self.reason = reason
    }
}
