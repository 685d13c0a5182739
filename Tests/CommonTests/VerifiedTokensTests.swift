import Foundation
import Testing

@testable import VoiceFlowCommon

/// The cache of verified access tokens answers only for tokens that verified and have not expired,
/// and stays within its bound.
@Suite struct VerifiedTokensTests {
    static let user = AuthenticatedUser(id: UUID(), username: "cached")

    @Test func aVerifiedTokenIsKnownUntilItExpiresThenForgotten() {
        let cache = VerifiedTokens(capacity: 10)
        let now = Date()
        cache.remember("token", identity: Self.user, until: now.addingTimeInterval(60))
        #expect(cache.identity(for: "token", at: now) == Self.user)
        #expect(cache.identity(for: "token", at: now.addingTimeInterval(61)) == nil)
        // Once forgotten it stays forgotten, whatever the clock says.
        #expect(cache.identity(for: "token", at: now) == nil)
        #expect(cache.identity(for: "another", at: now) == nil)
    }

    @Test func theCacheStaysWithinItsCapacity() {
        let cache = VerifiedTokens(capacity: 4)
        let now = Date()
        for index in 0..<20 { cache.remember("t\(index)", identity: Self.user, until: now.addingTimeInterval(60)) }
        let known = (0..<20).filter { cache.identity(for: "t\($0)", at: now) != nil }
        #expect(known.count <= 4)
        #expect(known.contains(19))
    }
}
