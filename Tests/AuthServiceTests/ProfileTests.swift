import Foundation
import HTTPTypes
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
            // A taken address is not refused (that would tell who holds it): it waits for a confirmation
            // that never comes (EmailChangeTests).
            try await client.send(.patch, alicePath, json: ["email": bob.user.email], token: alice.token) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(UserDTO.self).email == alice.user.email)
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
            // An account always has a name and an address: null is refused for both (only the avatar clears).
            for field in ["username", "email"] {
                try await client.send(.patch, alicePath, json: [field: nil], token: alice.token) { response throws in
                    #expect(response.status == .badRequest, "\(field): null")
                    #expect(response.errorBody?.details?[field] != nil)
                }
            }
            try await client.send(.patch, alicePath, json: ["username": "x_y_z"]) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.send(.get, "/api/v1/users/me", token: "garbage") { response throws in
                #expect(response.status == .unauthorized)
            }
        }
    }

    /// Each e-mail change sends an e-mail, so they are few: per user (a day) and per client address
    /// (an hour), taken or not.
    @Test func emailChangesAreRateLimitedWhetherTheAddressIsTakenOrNot() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("enum"))
            let bob = try await client.register(.unique("held"))
            let path = "/api/v1/users/\(alice.user.id)"
            let address: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "192.0.2.\(Int.random(in: 1...254))-\(TestEnvironment.uniqueSuffix())"]
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<30 {
                let email = attempt % 2 == 0 ? bob.user.email : "free.\(TestEnvironment.uniqueSuffix())@example.com"
                try await client.send(.patch, path, json: ["email": email], token: alice.token, headers: address) { response throws in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        #expect(response.errorBody?.code == "RATE_LIMITED")
                        #expect((response.headers[.retryAfter].flatMap(Int.init) ?? 0) > 60)
                    }
                }
            }
            #expect(statuses.prefix(5) == [.ok, .ok, .ok, .ok, .ok])
            #expect(statuses.dropFirst(5).allSatisfy { $0 == .tooManyRequests })
            // Other profile changes go on, within their own, larger budget.
            try await client.send(.patch, path, json: ["avatarUrl": "https://img.example/b.png"], token: alice.token) { response throws in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func profileChangesAreRateLimitedPerUser() async throws {
        try await withAuthService(["RATE_LIMIT_PROFILE_UPDATES_PER_HOUR": "3"]) { client in
            let carol = try await client.register(.unique("busy"))
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<5 {
                try await client.send(
                    .patch, "/api/v1/users/\(carol.user.id)", json: ["avatarUrl": "https://img.example/\(index).png"], token: carol.token
                ) { response in statuses.append(response.status) }
            }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests])
            let dave = try await client.register(.unique("calm"))
            try await client.send(.patch, "/api/v1/users/\(dave.user.id)", json: ["avatarUrl": nil], token: dave.token) { response throws in
                #expect(response.status == .ok)
            }
        }
    }

    /// A known path with a method it lacks is 405 with the methods it has; the literal `/users/me`
    /// is its own resource, not `/users/:id`.
    @Test func otherMethodsOnKnownPathsAre405() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("meth"))
            for (method, path, allow) in [
                (HTTPRequest.Method.patch, "/api/v1/users/me", "GET"),
                (.options, "/api/v1/users/me", "GET"),
                (.get, "/api/v1/users/\(session.user.id)", "PATCH"),
                (.trace, "/api/v1/auth/login", "POST"),
                (.delete, "/.well-known/jwks.json", "GET"),
            ] {
                try await client.send(method, path, token: session.token) { response throws in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == allow, "\(method) \(path)")
                    #expect(response.errorBody?.code == "METHOD_NOT_ALLOWED")
                }
            }
            try await client.send(.trace, "/api/v1/users/me/else", token: session.token) { response throws in
                #expect(response.status == .notFound)
            }
        }
    }
}
