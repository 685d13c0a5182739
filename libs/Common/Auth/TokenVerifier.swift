import Foundation
import JWTKit
import Logging
import Synchronization

/// Verifies access tokens with the public key only; used by every service.
///
/// A token's signature is checked once: the verified token is then remembered (bounded, see
/// ``VerifiedTokenCache``) and answers the same token again until it expires, so a client's every
/// request does not cost an Ed25519 verification. Tokens are stateless (nothing revokes one before
/// it expires), so remembering one changes no answer.
///
/// ```swift
/// let verifier = try await TokenVerifier(publicKey: signingKey.privateKey.publicKey)
/// let user = try await verifier.verify(bearerToken)   // throws a 401 APIError when invalid
/// ```
public struct TokenVerifier: Sendable {
    private let keys: JWTKeyCollection
    private let cache: VerifiedTokenCache
    /// The time tokens expire against.
    private let clock: @Sendable () -> Date

    /// A verifier trusting one Ed25519 public key.
    public init(publicKey: EdDSA.PublicKey) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: publicKey, kid: JWKIdentifier(string: SigningKey.keyID(for: publicKey)))
        self.init(keys: keys)
    }

    /// A verifier over an existing key collection (auth shares its signing collection). `now`
    /// tells the time tokens expire against (tests move it).
    public init(keys: JWTKeyCollection, cache: VerifiedTokenCache = VerifiedTokenCache(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = keys
        self.cache = cache
        self.clock = now
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
        let now = clock()
        if let known = cache.token(token) {
            guard known.expiresAt > now else { throw APIError.unauthorized("Invalid or expired token") }
            return known
        }
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            guard let identity = claims.identity else { throw APIError.unauthorized("Invalid token") }
            guard claims.expiresAt > now else { throw APIError.unauthorized("Invalid or expired token") }
            let verified = VerifiedToken(user: identity, expiresAt: claims.expiresAt, loginSession: claims.sid)
            cache.remember(verified, for: token, now: now)
            return verified
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

/// Tokens whose signature was verified, by their exact text, until they expire. Bounded: at most
/// ``capacity`` tokens of at most ``maxTokenBytes`` bytes each are kept (longer ones are verified
/// every time); when full, expired ones are dropped, and if none had expired, all of them.
public final class VerifiedTokenCache: Sendable {
    /// Tokens kept at most.
    public let capacity: Int
    /// Longer tokens are not kept.
    public static let maxTokenBytes = 1_024
    private let tokens = Mutex<[String: VerifiedToken]>([:])

    public init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    /// The verified token `text` is, if it was verified before.
    func token(_ text: String) -> VerifiedToken? {
        tokens.withLock { $0[text] }
    }

    func remember(_ verified: VerifiedToken, for text: String, now: Date) {
        guard capacity > 0, text.utf8.count <= Self.maxTokenBytes else { return }
        tokens.withLock { tokens in
            if tokens.count >= capacity {
                tokens = tokens.filter { $0.value.expiresAt > now }
                if tokens.count >= capacity { tokens.removeAll(keepingCapacity: true) }
            }
            tokens[text] = verified
        }
    }

    /// Tokens kept now.
    public var count: Int { tokens.withLock { $0.count } }
}
