import Foundation
import JWTKit
import Synchronization
import Testing
import VoiceFlowCommon

/// A verified token is remembered, but never past its expiry, never for a token that differs in
/// any byte, and never beyond the cache's bound.
@Suite struct TokenVerifierCacheTests {
    /// A clock the test moves.
    final class TestClock: Sendable {
        private let current = Mutex(Date())
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func signer() async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: try EdDSA.PrivateKey(curve: .ed25519))
        return keys
    }

    static let user = AuthenticatedUser(id: UUID(), username: "alice")

    @Test func aRememberedTokenIsRefusedOnceItExpires() async throws {
        let keys = try await Self.signer()
        let clock = TestClock()
        let cache = VerifiedTokenCache()
        let verifier = TokenVerifier(keys: keys, cache: cache, now: { clock.now })
        let token = try await keys.sign(AccessTokenClaims(user: Self.user, lifetime: .seconds(60)))
        #expect(try await verifier.verify(token) == Self.user)
        #expect(cache.count == 1)
        #expect(try await verifier.verify(token) == Self.user)  // from the cache
        clock.advance(by: 61)
        await #expect(throws: APIError.self) { try await verifier.verify(token) }
    }

    @Test func aTokenAlteredInAnyByteIsVerifiedAgainAndRefused() async throws {
        let keys = try await Self.signer()
        let verifier = TokenVerifier(keys: keys)
        let token = try await keys.sign(AccessTokenClaims(user: Self.user, lifetime: .seconds(60)))
        #expect(try await verifier.verify(token) == Self.user)
        // Same signature, another payload (another user): not the remembered token.
        let parts = token.split(separator: ".")
        let other = try await keys.sign(AccessTokenClaims(user: AuthenticatedUser(id: UUID(), username: "mallory"), lifetime: .seconds(60)))
        let spliced = [String(other.split(separator: ".")[0]), String(other.split(separator: ".")[1]), String(parts[2])].joined(separator: ".")
        await #expect(throws: APIError.self) { try await verifier.verify(spliced) }
        await #expect(throws: APIError.self) { try await verifier.verify(token + "x") }
    }

    @Test func theCacheStaysWithinItsBound() async throws {
        let keys = try await Self.signer()
        let cache = VerifiedTokenCache(capacity: 3)
        let verifier = TokenVerifier(keys: keys, cache: cache)
        for _ in 0..<10 {
            let token = try await keys.sign(
                AccessTokenClaims(user: AuthenticatedUser(id: UUID(), username: "u"), lifetime: .seconds(60)))
            _ = try await verifier.verify(token)
            #expect(cache.count <= 3)
        }
    }
}
