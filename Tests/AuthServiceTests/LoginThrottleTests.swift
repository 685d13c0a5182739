import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import VoiceFlowCommon

@testable import AuthService

/// Sign-in counts failures, per account and client address, and slows guessing down without
/// locking the account's owner out (OWASP ASVS 2.2.1). Waits here are ten minutes long, so no test
/// outlives one and none depends on how fast it runs.
@Suite(.timeLimit(.minutes(3))) struct LoginThrottleTests {
    static func from(_ address: String) -> HTTPFields {
        [HTTPField.Name("X-Forwarded-For")!: address]
    }

    /// A fresh address of the documentation range, unique to this run.
    static func address() -> String {
        "198.51.100.\(Int.random(in: 1...254))-\(TestEnvironment.uniqueSuffix())"
    }

    @Test func wrongPasswordsSlowTheirAddressButNeverLockTheOwnerOut() async throws {
        try await withAuthService(configure: {
            $0.rateLimits.loginFailuresPerAccountAndAddress.freeFailures = 3
            $0.rateLimits.loginFailuresPerAccountAndAddress.firstDelay = .seconds(600)
            $0.rateLimits.loginFailuresPerAccountAndAddress.maximumDelay = .seconds(900)
        }) { client in
            let victim = Credentials.unique("victim")
            _ = try await client.register(victim)
            let attacker = Self.from(Self.address())
            let owner = Self.from(Self.address())
            let wrong: [String: String?] = ["email": victim.email, "password": "not the password"]
            let right: [String: String?] = ["email": victim.email, "password": victim.password]

            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<10 {
                try await client.send(.post, "/api/v1/auth/login", json: wrong, headers: attacker) { response throws in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        #expect(response.errorBody?.code == "RATE_LIMITED")
                        #expect((response.headers[.retryAfter].flatMap(Int.init) ?? 0) > 60)
                    }
                }
            }
            // Three free failures, the fourth starts a wait; attempts during it are not checked at all.
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .unauthorized] + Array(repeating: .tooManyRequests, count: 6))
            // The guessing address waits even with the right password ...
            try await client.send(.post, "/api/v1/auth/login", json: right, headers: attacker) { response throws in
                #expect(response.status == .tooManyRequests)
            }
            // ... while the owner, elsewhere, signs in as often as they like: successes are not counted.
            for _ in 0..<12 {
                try await client.send(.post, "/api/v1/auth/login", json: right, headers: owner) { response throws in
                    #expect(response.status == .ok)
                }
            }
            // A wrong password of the owner's own counts for the owner's address only, and a success clears it.
            for _ in 0..<3 {
                try await client.send(.post, "/api/v1/auth/login", json: wrong, headers: owner) { response throws in
                    #expect(response.status == .unauthorized)
                }
                try await client.send(.post, "/api/v1/auth/login", json: right, headers: owner) { response throws in
                    #expect(response.status == .ok)
                }
            }
            try await client.send(.post, "/api/v1/auth/login", json: wrong, headers: attacker) { response throws in
                #expect(response.status == .tooManyRequests)
            }
        }
    }

    @Test func anAccountGuessedFromManyAddressesStillLetsItsOwnerIn() async throws {
        try await withAuthService(configure: {
            $0.rateLimits.loginFailuresPerAccount.freeFailures = 3
            $0.rateLimits.loginFailuresPerAccount.firstDelay = .seconds(600)
            $0.rateLimits.loginFailuresPerAccount.maximumDelay = .seconds(900)
        }) { client in
            let victim = Credentials.unique("spray")
            _ = try await client.register(victim)
            let wrong: [String: String?] = ["email": victim.email, "password": "not the password"]
            let right: [String: String?] = ["email": victim.email, "password": victim.password]
            let home = Self.from(Self.address())
            try await client.send(.post, "/api/v1/auth/login", json: right, headers: home) { response throws in
                #expect(response.status == .ok)
            }
            // One guess each from many addresses: the account as a whole has its own budget of failures.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 {
                try await client.send(.post, "/api/v1/auth/login", json: wrong, headers: Self.from(Self.address())) { response in
                    statuses.append(response.status)
                }
            }
            #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests])
            // Addresses that never signed in to the account now wait; the owner's usual address does not.
            try await client.send(.post, "/api/v1/auth/login", json: right, headers: Self.from(Self.address())) { response throws in
                #expect(response.status == .tooManyRequests)
            }
            try await client.send(.post, "/api/v1/auth/login", json: right, headers: home) { response throws in
                #expect(response.status == .ok)
            }
            // Other accounts are not affected.
            let other = Credentials.unique("calm")
            _ = try await client.register(other)
            try await client.send(
                .post, "/api/v1/auth/login", json: ["email": other.email, "password": other.password], headers: Self.from(Self.address())
            ) { response throws in
                #expect(response.status == .ok)
            }
        }
    }
}
