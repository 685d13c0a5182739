import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import JWTKit
import TestSupport
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct SessionTests {
    @Test func loginFailuresAreIndistinguishable() async throws {
        try await withAuthService { client in
            let credentials = Credentials.unique("login")
            _ = try await client.register(credentials)
            try await client.send(.post, "/api/v1/auth/login", json: ["email": credentials.email, "password": credentials.password]) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(Session.self).user.username == credentials.username)
            }
            try await client.send(.post, "/api/v1/auth/login", json: ["email": credentials.email.uppercased(), "password": credentials.password]) { response throws in
                #expect(response.status == .ok)
            }
            let wrongPassword = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": credentials.email, "password": "wrong password!"]
            ) { response in (response.status, String(buffer: response.body)) }
            let unknownEmail = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": "nobody.\(TestEnvironment.uniqueSuffix())@example.com", "password": "wrong password!"]
            ) { response in (response.status, String(buffer: response.body)) }
            #expect(wrongPassword.0 == .unauthorized)
            #expect(wrongPassword == unknownEmail)
            #expect(wrongPassword.1.contains("INVALID_CREDENTIALS"))
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("rot"))
            let rotated = try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": session.refreshToken]) { response throws in
                #expect(response.status == .ok)
                return try response.json(Session.self)
            }
            #expect(rotated.refreshToken != session.refreshToken)
            #expect(rotated.user.id == session.user.id)

            // Replaying the rotated token is theft: 401, and the newest token of the family dies too.
            try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": session.refreshToken]) { response throws in
                #expect(response.status == .unauthorized)
                #expect(response.errorBody?.code == "REFRESH_TOKEN_REUSED")
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": rotated.refreshToken]) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": "made-up"]) { response throws in
                #expect(response.status == .unauthorized)
                #expect(response.errorBody?.code == "UNAUTHORIZED")
            }
        }
    }

    @Test func concurrentRefreshesOfOneTokenCannotBothSucceed() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("race"))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": session.refreshToken]) { $0.status }
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count <= 1)
            #expect(statuses.filter { $0 == .unauthorized }.count >= 3)
        }
    }

    @Test func logoutRevokesTheFamily() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("out"))
            try await client.send(.post, "/api/v1/auth/logout", json: ["refreshToken": session.refreshToken]) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"success\":true"))
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": session.refreshToken]) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.send(.post, "/api/v1/auth/logout", json: ["refreshToken": "never-issued"]) { response throws in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func verifyAndJWKS() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("ver"))
            try await client.send(.get, "/api/v1/auth/verify", token: session.token) { response throws in
                #expect(response.status == .ok)
                let body = try response.json(VerifyBody.self)
                #expect(body.valid)
                #expect(body.user.id == session.user.id)
            }
            try await client.send(.get, "/api/v1/auth/verify") { response throws in
                #expect(response.status == .unauthorized)
                #expect(response.errorBody?.code == "UNAUTHORIZED")
            }
            // Another service holding only the published public key accepts the token.
            let keySet = try await client.send(.get, "/.well-known/jwks.json") { try $0.json(JWKSet.self) }
            let jwk = try #require(keySet.keys.first)
            #expect(jwk.kty == "OKP" && jwk.crv == "Ed25519" && jwk.alg == "EdDSA")
            let verifier = await TokenVerifier(publicKey: try EdDSA.PublicKey(x: jwk.x, curve: .ed25519))
            let identity = try await verifier.verify(session.token)
            #expect(identity.id.uuidString.lowercased() == session.user.id)
            #expect(identity.username == session.user.username)
        }
    }
}

extension SessionTests {
    @Test func registrationIsRateLimitedPerClientAddress() async throws {
        try await withAuthService(["RATE_LIMIT_REGISTER_PER_IP": "2"]) { client in
            let address: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.\(Int.random(in: 1...254)), 198.51.100.\(Int.random(in: 1...254))-\(TestEnvironment.uniqueSuffix())"]
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                try await client.send(.post, "/api/v1/auth/register", json: Credentials.unique("ip").registration, headers: address) { response in
                    statuses.append(response.status)
                }
            }
            #expect(statuses == [.created, .created, .tooManyRequests])
        }
    }
}

struct VerifyBody: Decodable {
    var valid: Bool
    var user: UserDTO
}
