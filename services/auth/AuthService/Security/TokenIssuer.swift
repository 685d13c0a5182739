import Crypto
import Foundation
import JWTKit
import VoiceFlowCommon

/// Mints access tokens (EdDSA JWTs) and opaque refresh tokens. Only auth holds one.
struct TokenIssuer: Sendable {
    let keys: JWTKeyCollection
    let signingKey: SigningKey
    let accessTokenLifetime: Duration
    let refreshTokenLifetime: Duration

    /// Builds the signing collection from the private key.
    init(signingKey: SigningKey, accessTokenLifetime: Duration, refreshTokenLifetime: Duration) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: signingKey.privateKey, kid: JWKIdentifier(string: signingKey.keyID))
        self.keys = keys
        self.signingKey = signingKey
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    /// A signed access token for `user` in the login session `loginSession` (its refresh-token family).
    func accessToken(for user: AuthenticatedUser, loginSession: UUID) async throws -> String {
        try await keys.sign(
            AccessTokenClaims(user: user, loginSession: loginSession, lifetime: accessTokenLifetime),
            kid: JWKIdentifier(string: signingKey.keyID))
    }

    /// Seconds an access token lives, as `expiresIn` reports it.
    var expiresIn: Int { Int(accessTokenLifetime.components.seconds) }

    /// When a refresh token minted now expires.
    var refreshExpiry: Date { Date().addingTimeInterval(TimeInterval(refreshTokenLifetime.components.seconds)) }

    /// A new refresh token: 32 random bytes, base64url, and the SHA-256 that is stored.
    static func newRefreshToken() -> (token: String, hash: [UInt8]) {
        newOpaqueToken()
    }

    /// A new opaque token (refresh, e-mail confirmation): 32 random bytes, base64url, and the
    /// SHA-256 that is stored.
    static func newOpaqueToken() -> (token: String, hash: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return (token, hash(token))
    }

    /// The stored form of an opaque token.
    static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }
}
