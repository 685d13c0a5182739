import Foundation
import JWTKit
import Logging

/// Verifies access tokens with the public key only; used by every service.
///
/// ```swift
/// let verifier = try await TokenVerifier(publicKey: signingKey.privateKey.publicKey)
/// let user = try await verifier.verify(bearerToken)   // throws a 401 APIError when invalid
/// ```
public struct TokenVerifier: Sendable {
    private let keys: JWTKeyCollection

    /// A verifier trusting one Ed25519 public key.
    public init(publicKey: EdDSA.PublicKey) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: publicKey, kid: JWKIdentifier(string: SigningKey.keyID(for: publicKey)))
        self.keys = keys
    }

    /// A verifier over an existing key collection (auth shares its signing collection).
    public init(keys: JWTKeyCollection) {
        self.keys = keys
    }

    /// A verifier built from configuration: `JWT_PUBLIC_KEY` when set, else the public half of the
    /// configured signing key.
    public static func load(_ configuration: TokenKeyConfiguration, mode: DeploymentMode) async throws -> TokenVerifier {
        if let text = configuration.publicKey {
            let key: EdDSA.PublicKey
            if text.contains("BEGIN PUBLIC KEY") {
                key = try EdDSA.PublicKey(pem: text)
            } else {
                key = try EdDSA.PublicKey(x: text, curve: .ed25519)
            }
            return await TokenVerifier(publicKey: key)
        }
        return await TokenVerifier(publicKey: try SigningKey.load(configuration, mode: mode).privateKey.publicKey)
    }

    /// The identity in `token`, or a 401 `UNAUTHORIZED` for anything invalid, expired or forged.
    public func verify(_ token: String) async throws(APIError) -> AuthenticatedUser {
        try await verifiedToken(token).user
    }

    /// The identity in `token` with when it expires and its login session (for holders that
    /// outlive one request, such as sockets); a 401 `UNAUTHORIZED` for anything invalid.
    public func verifiedToken(_ token: String) async throws(APIError) -> VerifiedToken {
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            guard let identity = claims.identity else { throw APIError.unauthorized("Invalid token") }
            return VerifiedToken(user: identity, expiresAt: claims.expiresAt, loginSession: claims.sid)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.unauthorized("Invalid or expired token")
        }
    }
}

/// A verified access token: whose it is, until when, and for which login session.
public struct VerifiedToken: Sendable, Equatable {
    /// The token's holder.
    public let user: AuthenticatedUser
    /// When the token expires.
    public let expiresAt: Date
    /// The login session (refresh-token family id) the token belongs to, when it has one.
    public let loginSession: String?

    public init(user: AuthenticatedUser, expiresAt: Date, loginSession: String?) {
        self.user = user
        self.expiresAt = expiresAt
        self.loginSession = loginSession
    }
}
