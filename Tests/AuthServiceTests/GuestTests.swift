import Foundation
import HummingbirdTesting
import JWTKit
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct GuestTests {
    @Test func guestsSignInWithADisplayNameAndHaveLimitedRights() async throws {
        try await withAuthService { client in
            let session = try await client.send(.post, "/api/v1/auth/guest", json: ["displayName": "Ada Lovelace!"]) { response throws in
                #expect(response.status == .created)
                return try response.json(Session.self)
            }
            #expect(session.user.username.hasPrefix("Ada_Lovelace_"))
            #expect(session.user.username.count <= 20)

            let keySet = try await client.send(.get, "/.well-known/jwks.json") { try $0.json(JWKSet.self) }
            let verifier = await TokenVerifier(publicKey: try EdDSA.PublicKey(x: keySet.keys[0].x, curve: .ed25519))
            #expect(try await verifier.verify(session.token).kind == .guest)

            try await client.send(.get, "/api/v1/users/me", token: session.token) { response in #expect(response.status == .ok) }
            try await client.send(.patch, "/api/v1/users/\(session.user.id)", json: ["username": "real_user"], token: session.token) { response in
                #expect(response.status == .forbidden)
            }
            // A guest account has no password: logging in with its address never works.
            try await client.send(.post, "/api/v1/auth/login", json: ["email": session.user.email, "password": "anything goes"]) { response in
                #expect(response.status == .unauthorized)
            }
            // Two guests with the same name are different users.
            let other = try await client.send(.post, "/api/v1/auth/guest", json: ["displayName": "Ada Lovelace!"]) { try $0.json(Session.self) }
            #expect(other.user.id != session.user.id)
            let symbols = try await client.send(.post, "/api/v1/auth/guest", json: ["displayName": "☕️☕️"]) { try $0.json(Session.self) }
            #expect(symbols.user.username.hasPrefix("guest_"))

            for name in ["", "   ", String(repeating: "n", count: 33)] {
                try await client.send(.post, "/api/v1/auth/guest", json: ["displayName": name]) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.errorBody?.details?["displayName"] != nil)
                }
            }
        }
    }
}
