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
        SHA256.hash(data: publicKey.rawRepresentation).prefix(8).lowercaseHex
    }

    /// Loads the key from `JWT_PRIVATE_KEY` or `JWT_KEY_FILE`; in development and test, creates the file
    /// (mode 0600) when it does not exist yet. Production refuses to generate one.
    ///
    /// Several processes may start at once on a fresh machine: each may generate a key, but only one
    /// file lands (``publish(_:at:)``) and every process, the ones that lost included, then uses the
    /// key read back from that file, so all of them sign and verify with the same key.
    public static func load(_ configuration: TokenKeyConfiguration, mode: DeploymentMode) throws -> SigningKey {
        if let pem = configuration.privateKeyPEM {
            return try SigningKey(privateKey: parse(pem, source: "JWT_PRIVATE_KEY"))
        }
        let path = configuration.keyFile
        if !FileManager.default.fileExists(atPath: path) {
            guard mode != .production else {
                throw ConfigurationError.insecureDefaultInProduction(key: "JWT_PRIVATE_KEY")
            }
            try publish(try EdDSA.PrivateKey(curve: .ed25519).pemRepresentation, at: path)
        }
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError.invalidValue(key: "JWT_KEY_FILE", reason: "cannot read \(path)")
        }
        return try SigningKey(privateKey: parse(pem, source: "JWT_KEY_FILE"))
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

    /// Creates the key file at `path` holding `pem` unless one exists already, atomically: the PEM is
    /// written in full (mode 0600, `O_EXCL`, flushed to disk) under a unique temporary name, then
    /// hard-linked to `path`. `link(2)` fails with `EEXIST` when another process got there first, so
    /// exactly one file ever appears, complete, and a reader never sees a partial key.
    static func publish(_ pem: String, at path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let failure = ConfigurationError.invalidValue(key: "JWT_KEY_FILE", reason: "cannot create \(path)")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw failure
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure }
        defer { unlink(temporary) }
        let bytes = Array(pem.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let flushed = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, flushed else { throw failure }
        guard link(temporary, path) == 0 || errno == EEXIST else { throw failure }
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
