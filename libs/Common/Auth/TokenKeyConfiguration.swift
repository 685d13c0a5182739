import Foundation

/// Where the Ed25519 token keys come from.
///
/// - `JWT_PRIVATE_KEY`: the private key (auth only), PEM or the base64url `d` of its JWK (one line,
///   for env files). Wins over the file.
/// - `JWT_KEY_FILE`: path of the PEM private key; default `.data/keys/jwt-ed25519.pem`. In development
///   and test, the first service to start creates it, atomically, and every service uses the key that
///   landed (``SigningKey/load(_:mode:)``); production never generates a key.
/// - `JWT_PUBLIC_KEY`: the PEM public key, or the base64url `x` of the JWK, for services that only verify.
///   When unset they derive it from the key in `JWT_KEY_FILE` (the local stack shares one file).
/// - `AUTH_URL`: where auth answers (default http://127.0.0.1:3001), for service-to-service calls.
/// - `JWT_ACCESS_TTL_SECONDS` (900) and `JWT_REFRESH_TTL_SECONDS` (30 days): token lifetimes.
public struct TokenKeyConfiguration: Sendable {
    public var privateKeyPEM: String?
    public var keyFile: String
    public var keyFileIsExplicit: Bool
    public var publicKey: String?
    public var authURL: String

    /// Reads the key settings.
    public init(environment: EnvironmentReader) {
        self.privateKeyPEM = environment.string("JWT_PRIVATE_KEY")
        self.keyFile = environment.string("JWT_KEY_FILE", default: ".data/keys/jwt-ed25519.pem")
        self.keyFileIsExplicit = environment.string("JWT_KEY_FILE") != nil
        self.publicKey = environment.string("JWT_PUBLIC_KEY")
        self.authURL = environment.string("AUTH_URL", default: "http://127.0.0.1:3001")
    }
}
