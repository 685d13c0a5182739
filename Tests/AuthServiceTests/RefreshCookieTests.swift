import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import VoiceFlowCommon

@testable import AuthService

/// The browser's refresh token: an HttpOnly cookie scoped to the auth paths, accepted from the
/// application's own origin only, rotated with every refresh and removed by logout.
@Suite(.timeLimit(.minutes(3))) struct RefreshCookieTests {
    static let origin = "http://127.0.0.1:8080"

    /// The `vf_refresh` value a response sets, with its attributes.
    static func cookie(_ response: TestResponse) throws -> (value: String, attributes: Set<String>) {
        let header = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("vf_refresh=") })
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return (String(parts[0].dropFirst("vf_refresh=".count)), Set(parts.dropFirst()))
    }

    static func carrying(_ cookie: String, origin: String? = Self.origin) -> HTTPFields {
        var headers: HTTPFields = [.cookie: "theme=dark; vf_refresh=\(cookie)"]
        if let origin { headers[.origin] = origin }
        return headers
    }

    @Test func signInSetsAnHttpOnlyCookieThatRefreshRotates() async throws {
        try await withAuthService { client in
            let credentials = Credentials.unique("ck")
            let registered = try await client.send(.post, "/api/v1/auth/register", json: credentials.registration) { response in
                #expect(response.status == .created)
                return try Self.cookie(response)
            }
            #expect(registered.attributes.isSuperset(of: ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"]))
            #expect(registered.attributes.contains("Secure") == false, "development serves plain HTTP")
            let signedIn = try await client.send(
                .post, "/api/v1/auth/login", json: ["email": credentials.email, "password": credentials.password]
            ) { response in
                #expect(response.status == .ok)
                let (cookie, _) = try Self.cookie(response)
                #expect(try response.json(Session.self).refreshToken == cookie)
                return cookie
            }
            // A browser refreshes with an empty body: the cookie is the credential, and is replaced.
            let rotated = try await client.send(.post, "/api/v1/auth/refresh", json: [:], headers: Self.carrying(signedIn)) { response in
                #expect(response.status == .ok)
                #expect(try response.json(Session.self).user.username == credentials.username)
                return try Self.cookie(response).value
            }
            #expect(rotated != signedIn)
            // The old cookie again is reuse: the whole login is revoked.
            try await client.send(.post, "/api/v1/auth/refresh", json: [:], headers: Self.carrying(signedIn)) { response in
                #expect(response.status == .unauthorized)
                #expect(response.errorBody?.code == "REFRESH_TOKEN_REUSED")
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: [:], headers: Self.carrying(rotated)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func theCookieIsRefusedFromOtherOriginsAndWithoutOne() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("csrf"))
            for origin in ["https://evil.example", "null", nil] as [String?] {
                try await client.send(.post, "/api/v1/auth/refresh", json: [:], headers: Self.carrying(session.refreshToken, origin: origin)) {
                    response in
                    #expect(response.status == .forbidden, "origin \(origin ?? "none")")
                }
                try await client.send(.post, "/api/v1/auth/logout", json: [:], headers: Self.carrying(session.refreshToken, origin: origin)) {
                    response in
                    #expect(response.status == .forbidden, "origin \(origin ?? "none")")
                }
            }
            // Nothing was spent: the token still refreshes once from the right origin.
            try await client.send(.post, "/api/v1/auth/refresh", json: [:], headers: Self.carrying(session.refreshToken)) { response in
                #expect(response.status == .ok)
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: [:]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func logoutWithTheCookieEndsTheLoginAndRemovesIt() async throws {
        try await withAuthService { client in
            let session = try await client.register(.unique("out"))
            try await client.send(.post, "/api/v1/auth/logout", json: [:], headers: Self.carrying(session.refreshToken)) { response in
                #expect(response.status == .ok)
                let (value, attributes) = try Self.cookie(response)
                #expect(value.isEmpty)
                #expect(attributes.contains("Max-Age=0"))
            }
            try await client.send(.post, "/api/v1/auth/refresh", json: ["refreshToken": session.refreshToken]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func productionCookiesAreSecure() {
        let cookie = RefreshCookie(secure: true, lifetime: .seconds(3600), allowedOrigins: [])
        #expect(cookie.set("t") == "vf_refresh=t; Path=/api/v1/auth; Max-Age=3600; HttpOnly; SameSite=Strict; Secure")
        #expect(cookie.cleared == "vf_refresh=; Path=/api/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict; Secure")
    }
}
