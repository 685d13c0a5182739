import Crypto
import Foundation
import Hummingbird
import JWTKit

/// The Ed25519 key pair that signs access tokens, with its key id and JWK form.
public struct SigningKey: Sendable {
    /// The private key (auth only).
    public let privateKey: EdDSA.PrivateKey
    /// The key id: the first 16 hex digits of the SHA-256 of the public key.
    public let keyID: String

    /// Wraps a private key.
    public init(privateKey: EdDSA.PrivateKey) {
        self.privateKey = privateKey
        self.keyID = Self.keyID(for: privateKey.publicKey)
    }

    /// The public half as a JWK, as published at `/.well-known/jwks.json`.
    public var publicJWK: PublicJWK {
        PublicJWK(x: Base64URL.encode(privateKey.publicKey.rawRepresentation), kid: keyID)
    }

    static func keyID(for publicKey: EdDSA.PublicKey) -> String {
        SHA256.hash(data: publicKey.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads the key from `JWT_PRIVATE_KEY` or `JWT_KEY_FILE`; in development and test, creates the file
    /// (mode 0600) when it does not exist yet. Production refuses to generate one.
    public static func load(_ configuration: TokenKeyConfiguration, mode: DeploymentMode) throws -> SigningKey {
        if let pem = configuration.privateKeyPEM {
            return try SigningKey(privateKey: parse(pem, source: "JWT_PRIVATE_KEY"))
        }
        let path = configuration.keyFile
        if FileManager.default.fileExists(atPath: path) {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try SigningKey(privateKey: parse(pem, source: "JWT_KEY_FILE"))
        }
        guard mode != .production else {
            throw ConfigurationError.insecureDefaultInProduction(key: "JWT_PRIVATE_KEY")
        }
        let key = try EdDSA.PrivateKey(curve: .ed25519)
        try write(key.pemRepresentation, to: path)
        return SigningKey(privateKey: key)
    }

    /// A PEM private key, or the base64url `d` of an Ed25519 JWK (one line, for env files).
    private static func parse(_ text: String, source: String) throws -> EdDSA.PrivateKey {
        do {
            if text.contains("BEGIN") {
                return try EdDSA.PrivateKey(pem: text)
            }
            return try EdDSA.PrivateKey(d: text.trimmingCharacters(in: .whitespacesAndNewlines), curve: .ed25519)
        } catch {
            throw ConfigurationError.invalidValue(key: source, reason: "not an Ed25519 private key (PEM or base64url d)")
        }
    }

    /// Writes the PEM atomically and privately; a concurrent first start keeps whichever file landed first.
    private static func write(_ pem: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).tmp")
        _ = FileManager.default.createFile(
            atPath: temporary.path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600])
        if link(temporary.path, url.path) != 0 && errno != EEXIST {
            unlink(temporary.path)
            throw ConfigurationError.invalidValue(key: "JWT_KEY_FILE", reason: "cannot write \(path)")
        }
        unlink(temporary.path)
    }
}

/// A public Ed25519 key in JWK form (RFC 8037).
public struct PublicJWK: Codable, Sendable, Equatable {
    public var kty = "OKP"
    public var crv = "Ed25519"
    public var x: String
    public var kid: String
    public var use = "sig"
    public var alg = "EdDSA"

    /// Creates a JWK from its `x` coordinate and key id.
    public init(x: String, kid: String) {
        self.x = x
        self.kid = kid
    }
}

/// A JSON Web Key Set: `{"keys": [...]}`.
public struct JWKSet: ResponseCodable, Sendable, Equatable {
    public var keys: [PublicJWK]

    /// Creates a key set.
    public init(keys: [PublicJWK]) {
        self.keys = keys
    }
}

/// Unpadded base64url, as JWKs use.
enum Base64URL {
    static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
