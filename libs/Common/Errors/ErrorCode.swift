/// Stable, machine-readable error codes shared by every service and by the socket `error` event.
///
/// Clients switch on these strings; never rename one once shipped.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    case validationFailed = "VALIDATION_FAILED"
    case invalidJSON = "INVALID_JSON"
    case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case unauthorized = "UNAUTHORIZED"
    case invalidCredentials = "INVALID_CREDENTIALS"
    case refreshTokenReused = "REFRESH_TOKEN_REUSED"
    case forbidden = "FORBIDDEN"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case usernameTaken = "USERNAME_TAKEN"
    case emailTaken = "EMAIL_TAKEN"
    case conflict = "CONFLICT"
    case roomFull = "ROOM_FULL"
    case roomInactive = "ROOM_INACTIVE"
    case lastAdmin = "LAST_ADMIN"
    case rateLimited = "RATE_LIMITED"
    case internalError = "INTERNAL_ERROR"
    case serviceUnavailable = "SERVICE_UNAVAILABLE"
    /// A socket fell too far behind (its outgoing queue filled up) and was disconnected; it
    /// reconnects and catches up by sequence number.
    case slowConsumer = "SLOW_CONSUMER"
    /// A socket's access token expired without `auth:refresh`: it is disconnected; the client
    /// refreshes its token and reconnects.
    case tokenExpired = "TOKEN_EXPIRED"
    /// The login session a socket authenticated with was signed out or revoked: it is disconnected.
    case sessionEnded = "SESSION_ENDED"
    /// The room's voice has as many participants as a mesh allows (`VOICE_MAX_PARTICIPANTS`).
    case voiceFull = "VOICE_FULL"
    /// A voice event from a socket that has no voice session (in that room).
    case voiceNotJoined = "VOICE_NOT_JOINED"
    /// `voice:signal` to a session that is not in the sender's voice room.
    case voicePeerUnknown = "VOICE_PEER_UNKNOWN"
}
