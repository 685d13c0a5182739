import Foundation
import JWTKit
import Logging
import Synchronization

/// Verifies access tokens with the public key only; used by every service.
///
/// ```swift
/// let verifier = try await TokenVerifier(publicKey: signingKey.privateKey.publicKey)
/// let user = try await verifier.verify(bearerToken)   // throws a 401 APIError when invalid
/// ```
///
/// A token that verified is remembered until it expires (a bounded cache keyed by the whole token),
/// so a client sending many requests with one token pays for the signature check once. Access tokens
/// are never revoked before they expire, so the cache answers exactly what a check would.
public struct TokenVerifier: Sendable {
    private let keys: JWTKeyCollection
    private let verified = VerifiedTokens(capacity: 10_000)

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
        if let identity = verified.identity(for: token, at: Date()) { return identity }
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            guard let identity = claims.identity else { throw APIError.unauthorized("Invalid token") }
            verified.remember(token, identity: identity, until: claims.exp.value)
            return identity
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.unauthorized("Invalid or expired token")
        }
    }
}

/// Tokens that verified, with their identity and expiry; at most `capacity`, expired ones dropped
/// first when full, then an arbitrary half (a cache miss only costs a signature check).
final class VerifiedTokens: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: (identity: AuthenticatedUser, expiresAt: Date)]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The identity of `token` if it verified before and has not expired at `now`.
    func identity(for token: String, at now: Date) -> AuthenticatedUser? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.expiresAt > now else {
                entries[token] = nil
                return nil
            }
            return entry.identity
        }
    }

    func remember(_ token: String, identity: AuthenticatedUser, until expiresAt: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                let now = Date()
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity {
                    for key in entries.keys.prefix(capacity / 2) { entries[key] = nil }
                }
            }
            entries[token] = (identity, expiresAt)
        }
    }
}
