import Foundation

/// `POST /api/v1/auth/register`.
struct RegisterRequest: Decodable {
    var username: String
    var email: String
    var password: String
    var confirmPassword: String
}

/// `POST /api/v1/auth/login`.
struct LoginRequest: Decodable {
    var email: String
    var password: String
}

/// `POST /api/v1/auth/refresh` and `/logout`.
struct RefreshRequest: Decodable {
    /// Absent for a browser, whose refresh token is its ``RefreshCookie``.
    var refreshToken: String?
}

/// `PATCH /api/v1/users/:id`: absent fields stay; `avatarUrl: null` clears the avatar, while
/// `username` and `email` cannot be null (an account always has both).
struct UpdateUserRequest: Decodable {
    var username: String?
    var email: String?
    var avatarUrl: String?
    var clearsAvatar: Bool

    enum CodingKeys: String, CodingKey {
        case username, email, avatarUrl
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.username, .email] where container.contains(key) {
            if try container.decodeNil(forKey: key) {
                throw DecodingError.valueNotFound(
                    String.self, .init(codingPath: container.codingPath + [key], debugDescription: "null is not allowed"))
            }
        }
        self.username = try container.decodeIfPresent(String.self, forKey: .username)
        self.email = try container.decodeIfPresent(String.self, forKey: .email)
        self.avatarUrl = try container.decodeIfPresent(String.self, forKey: .avatarUrl)
        self.clearsAvatar = try container.contains(.avatarUrl) && container.decodeNil(forKey: .avatarUrl)
    }
}

/// `POST /api/v1/auth/confirm-email`.
struct ConfirmEmailRequest: Decodable {
    var token: String
}

/// `POST /api/v1/auth/guest`.
struct GuestRequest: Decodable {
    var displayName: String
}
