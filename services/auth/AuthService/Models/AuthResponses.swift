import Hummingbird
import VoiceFlowCommon

/// The body of register, login and refresh: `{token, refreshToken, user, expiresIn}`.
struct AuthResponse: ResponseEncodable {
    /// The access token (JWT).
    var token: String
    /// The opaque refresh token; shown once.
    var refreshToken: String
    var user: UserDTO
    /// Access token lifetime in seconds.
    var expiresIn: Int
}

/// `GET /api/v1/auth/verify`.
struct VerifyResponse: ResponseEncodable {
    var valid: Bool
    var user: UserDTO
}
