import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct ProfileTests {
    @Test func readAndEditOwnProfile() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("prof"))
            try await client.send(.get, "/api/v1/users/me", token: session.token) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(UserDTO.self).id == session.user.id)
            }
            let newName = "p_\(TestEnvironment.uniqueSuffix())"
            try await client.send(
                .patch, "/api/v1/users/\(session.user.id)", json: ["username": newName, "avatarUrl": "https://img.example/a.png"],
                token: session.token
            ) { response throws in
                #expect(response.status == .ok)
                let user = try response.json(UserDTO.self)
                #expect(user.username == newName)
                #expect(user.avatarUrl == "https://img.example/a.png")
                #expect(user.updatedAt >= session.user.updatedAt)
            }
            try await client.send(.patch, "/api/v1/users/\(session.user.id)", json: ["avatarUrl": nil], token: session.token) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(UserDTO.self).avatarUrl == nil)
            }
        }
    }

    @Test func editingIsGuarded() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("alice"))
            let bob = try await client.register(.unique("bob"))
            let alicePath = "/api/v1/users/\(alice.user.id)"
            try await client.send(.patch, "/api/v1/users/\(bob.user.id)", json: ["username": "hijack"], token: alice.token) { response throws in
                #expect(response.status == .forbidden)
                #expect(response.errorBody?.code == "FORBIDDEN")
            }
            try await client.send(.patch, "/api/v1/users/not-a-uuid", json: ["username": "x_y_z"], token: alice.token) { response throws in
                #expect(response.status == .badRequest)
            }
            try await client.send(.patch, alicePath, json: ["username": bob.user.username], token: alice.token) { response throws in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "USERNAME_TAKEN")
            }
            try await client.send(.patch, alicePath, json: ["email": bob.user.email], token: alice.token) { response throws in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "EMAIL_TAKEN")
            }
            for url in ["ftp://files.example/a.png", "javascript:alert(1)", "not a url", "https://" + String(repeating: "a", count: 260) + ".example"] {
                try await client.send(.patch, alicePath, json: ["avatarUrl": url], token: alice.token) { response throws in
                    #expect(response.status == .badRequest)
                    #expect(response.errorBody?.details?["avatarUrl"] != nil)
                }
            }
            try await client.send(.patch, alicePath, json: [:], token: alice.token) { response throws in
                #expect(response.status == .badRequest)
            }
            try await client.send(.patch, alicePath, json: ["username": "x_y_z"]) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.send(.get, "/api/v1/users/me", token: "garbage") { response throws in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
