import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import JWTKit
import TestSupport
import Testing
import VoiceFlowCommon

/// The shared middleware stack, against a real PostgreSQL and Redis.
@Suite(.timeLimit(.minutes(3))) struct ServiceRuntimeTests {
    struct Echo: Codable, ResponseEncodable {
        var name: String
        var count: Int
    }

    struct Harness {
        let application: any ApplicationProtocol
        let signingKey: SigningKey
    }

    static func makeHarness(_ overrides: [String: String] = [:]) async throws -> Harness {
        let environment = EnvironmentReader(TestEnvironment.serviceVariables(["MAX_BODY_BYTES": "2048"].merging(overrides) { $1 }))
        let configuration = try ServiceConfiguration(environment: environment, defaultPort: 0)
        let runtime = ServiceRuntime(name: "test", configuration: configuration, logger: TestEnvironment.logger())
        let signingKey = try SigningKey.load(configuration.tokenKeys, mode: .test)
        let verifier = await TokenVerifier(publicKey: signingKey.privateKey.publicKey)
        let limiter = runtime.rateLimiter
        let rule = RateLimitRule(name: "test-\(TestEnvironment.uniqueSuffix())", limit: 2, period: .seconds(60))

        let router = runtime.makeRouter()
        router.post("echo") { request, context in
            try await request.decodeJSON(as: Echo.self, context: context)
        }
        router.get("boom") { _, _ -> String in
            throw CocoaError(.fileNoSuchFile, userInfo: ["secret": "internal detail"])
        }
        router.get("items/:id") { _, context in
            try context.uuidParameter("id").uuidString
        }
        router.get("limited") { _, context in
            try await limiter.check(rule, subject: context.clientIP)
            return "ok"
        }
        router.group("private").add(middleware: AuthenticationMiddleware(verifier: verifier)).get { _, context in
            try context.requireIdentity().username
        }
        return Harness(application: runtime.makeApplication(router: router, migrations: []), signingKey: signingKey)
    }

    @Test func badInputGetsTheCommonErrorShape() async throws {
        let harness = try await Self.makeHarness()
        try await harness.application.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            try await client.execute(uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: "{not json")) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "INVALID_JSON")
            }
            try await client.execute(
                uri: "/echo", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}")
            ) { response throws in
                #expect(response.status == .unsupportedMediaType)
                #expect(response.errorBody?.code == "UNSUPPORTED_MEDIA_TYPE")
            }
            try await client.execute(uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: #"{"name":"a"}"#)) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
                #expect(response.errorBody?.details?["count"] != nil)
            }
            try await client.execute(
                uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: #"{"name":"a","count":"three"}"#)
            ) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.details?["count"] != nil)
            }
            let huge = ByteBuffer(string: #"{"name":""# + String(repeating: "x", count: 4096) + #"","count":1}"#)
            try await client.execute(uri: "/echo", method: .post, headers: json, body: huge) { response throws in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorBody?.code == "PAYLOAD_TOO_LARGE")
            }
            try await client.execute(uri: "/echo", method: .post, headers: json, body: ByteBuffer(string: #"{"name":"ok","count":3}"#)) {
                response throws in
                #expect(response.status == .ok)
                #expect(try response.json(Echo.self).count == 3)
            }
            try await client.execute(uri: "/items/not-a-uuid", method: .get) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.details?["id"] != nil)
            }
            try await client.execute(uri: "/nowhere", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(response.errorBody?.code == "NOT_FOUND")
            }
        }
    }

    @Test func unknownErrorsBecomeGeneric500s() async throws {
        let harness = try await Self.makeHarness()
        try await harness.application.test(.router) { client in
            try await client.execute(uri: "/boom", method: .get) { response throws in
                #expect(response.status == .internalServerError)
                #expect(response.errorBody == ErrorBody(code: "INTERNAL_ERROR", message: "Internal server error"))
                #expect(!String(buffer: response.body).contains("internal detail"))
            }
        }
    }

    @Test func everyResponseCarriesSecurityHeadersAndARequestID() async throws {
        let harness = try await Self.makeHarness()
        try await harness.application.test(.router) { client in
            for uri in ["/health", "/nowhere", "/boom"] {
                try await client.execute(uri: uri, method: .get, headers: [HTTPField.Name("X-Request-Id")!: "abc-123"]) { response throws in
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                    #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                    #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] == nil)
                    #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
                }
            }
            try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "bad id\" <script>"]) { response throws in
                let id = try #require(response.headers[HTTPField.Name("X-Request-Id")!])
                #expect(!id.contains("script"))
            }
        }
        let hsts = try await Self.makeHarness(["HSTS_ENABLED": "true"])
        try await hsts.application.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!]?.hasPrefix("max-age=") == true)
            }
        }
    }

    @Test func corsAllowsOnlyConfiguredOrigins() async throws {
        let harness = try await Self.makeHarness(["FRONTEND_URL": "https://chat.example"])
        try await harness.application.test(.router) { client in
            try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://chat.example"]) { response throws in
                #expect(response.headers[.accessControlAllowOrigin] == "https://chat.example")
                #expect(response.headers[.accessControlAllowCredentials] == "true")
            }
            try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://evil.example"]) { response throws in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(
                uri: "/echo", method: .options,
                headers: [.origin: "https://chat.example", .accessControlRequestMethod: "POST"]
            ) { response throws in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            }
        }
    }

    @Test func healthReadyAndMetrics() async throws {
        let harness = try await Self.makeHarness()
        try await harness.application.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/ready", method: .get) { response throws in
                #expect(response.status == .ok)
                let report = try response.json(ReadinessReport.self)
                #expect(report.checks == ["postgres": "up", "redis": "up"])
            }
            try await client.execute(uri: "/metrics", method: .get) { response throws in
                let text = String(buffer: response.body)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(text.contains(#"http_requests_total{method="GET",route="/ready",status="200"} 1"#))
                #expect(text.contains("http_request_duration_seconds_bucket"))
            }
        }
    }

    @Test func readinessReportsADeadDependency() async throws {
        let harness = try await Self.makeHarness(["REDIS_URL": "redis://127.0.0.1:1"])
        try await harness.application.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response throws in
                #expect(response.status == .serviceUnavailable)
                let report = try response.json(ReadinessReport.self)
                #expect(report.checks["redis"] == "down")
                #expect(report.checks["postgres"] == "up")
            }
        }
    }

    @Test func bearerTokensAreVerified() async throws {
        let harness = try await Self.makeHarness()
        let user = AuthenticatedUser(id: UUID(), username: "alice")
        let keys = JWTKeyCollection()
        await keys.add(eddsa: harness.signingKey.privateKey)
        let valid = try await keys.sign(AccessTokenClaims(user: user, lifetime: .seconds(60)))
        let expired = try await keys.sign(
            AccessTokenClaims(user: user, issuedAt: Date().addingTimeInterval(-120), lifetime: .seconds(60)))
        let strangers = JWTKeyCollection()
        await strangers.add(eddsa: try EdDSA.PrivateKey(curve: .ed25519))
        let forged = try await strangers.sign(AccessTokenClaims(user: user, lifetime: .seconds(60)))

        try await harness.application.test(.router) { client in
            try await client.execute(uri: "/private", method: .get, headers: [.authorization: "Bearer \(valid)"]) { response throws in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "alice")
            }
            for header in ["", "Bearer", "Bearer \(expired)", "Bearer \(forged)", "Basic abc", "Bearer not.a.jwt"] {
                try await client.execute(uri: "/private", method: .get, headers: header.isEmpty ? [:] : [.authorization: header]) { response throws in
                    #expect(response.status == .unauthorized)
                    #expect(response.errorBody?.code == "UNAUTHORIZED")
                }
            }
        }
    }

    @Test func theBearerTokenIsTheHeadersSecondWordWithoutSurroundingBlanks() {
        func token(_ value: String) -> String? { AuthenticationMiddleware.bearerToken([.authorization: value]) }
        #expect(token("Bearer abc.def") == "abc.def")
        #expect(token("bearer  \tabc.def \t ") == "abc.def")
        #expect(token("Bearer \t ") == nil)
        #expect(token("Basic abc") == nil)
        #expect(token("Bearer") == nil)
        #expect(token("Bearer " + String(repeating: "a", count: 4096)) != nil)
        #expect(token("Bearer " + String(repeating: "é", count: 2049)) == nil)  // 4,098 bytes
    }

    @Test func rateLimitIsSharedAndAnswers429WithRetryAfter() async throws {
        let harness = try await Self.makeHarness()
        let ip = "203.0.113.\(Int.random(in: 1...250))-\(TestEnvironment.uniqueSuffix())"
        let forwarded: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.7, \(ip)"]
        try await harness.application.test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/limited", method: .get, headers: forwarded) { response throws in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: "/limited", method: .get, headers: forwarded) { response throws in
                #expect(response.status == .tooManyRequests)
                #expect(response.errorBody?.code == "RATE_LIMITED")
                let retryAfter = try #require(response.headers[.retryAfter].flatMap(Int.init))
                #expect(retryAfter >= 1 && retryAfter <= 60)
            }
        }
    }
}
