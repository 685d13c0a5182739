import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

@Suite(.timeLimit(.minutes(3))) struct RegistrationTests {
    @Test func registerReturnsASessionAndNeverThePasswordHash() async throws {
        try await withAuthService { client in
            let credentials = Credentials.unique("reg")
            try await client.send(.post, "/api/v1/auth/register", json: credentials.registration) { response throws in
                #expect(response.status == .created)
                let text = String(buffer: response.body)
                #expect(!text.contains("password"))
                #expect(!text.contains("$2b$"))
                let session = try response.json(Session.self)
                #expect(session.user.username == credentials.username)
                #expect(session.user.email == credentials.email)
                #expect(session.expiresIn == 900)
                #expect(session.token.split(separator: ".").count == 3)
                #expect(session.refreshToken.count >= 40)
            }
        }
    }

    @Test func registeringQueuesOneWelcomeEmail() async throws {
        try await withAuthService { client in
            let session = try await client.register(Credentials.unique("welcome"))
            let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
            let queue = JobQueue(name: PlatformJobs.emailQueue, redis: redis)
            let job = try #require(try await queue.job("welcome:\(session.user.id.lowercased())"))
            #expect(job["name"] == PlatformJobs.WelcomeEmail.name)
            let parameters = try JSONDecoder().decode(PlatformJobs.WelcomeEmail.self, from: Data((job["data"] ?? "").utf8))
            #expect(parameters.userId.uuidString.lowercased() == session.user.id.lowercased())
            #expect(job["attempts"] == "8")
            await redis.shutdown()
        }
    }

    @Test func duplicatesAreConflictsWhateverTheCase() async throws {
        try await withAuthService { client in
            let first = Credentials.unique("dup")
            _ = try await client.register(first)
            var sameName = Credentials.unique("dup")
            sameName.username = first.username.uppercased()
            try await client.send(.post, "/api/v1/auth/register", json: sameName.registration) { response throws in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "USERNAME_TAKEN")
            }
            var sameEmail = Credentials.unique("dup")
            sameEmail.email = first.email.uppercased()
            try await client.send(.post, "/api/v1/auth/register", json: sameEmail.registration) { response throws in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "EMAIL_TAKEN")
            }
        }
    }

    @Test(arguments: [
        ("username", "ab"), ("username", "has space"), ("username", String(repeating: "a", count: 21)), ("username", "émile"),
        ("email", "not-an-email"), ("email", "a@b"), ("email", "a @example.com"),
        ("password", "short"), ("password", String(repeating: "p", count: 73)),
    ])
    func invalidFieldsAreNamed(field: String, value: String) async throws {
        try await withAuthService { client in
            var body = Credentials.unique("bad").registration
            body[field] = value
            if field == "password" { body["confirmPassword"] = value }
            try await client.send(.post, "/api/v1/auth/register", json: body) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
                #expect(response.errorBody?.details?[field] != nil)
            }
        }
    }

    @Test func mismatchedMissingAndMistypedFields() async throws {
        try await withAuthService { client in
            var mismatched = Credentials.unique("mm").registration
            mismatched["confirmPassword"] = "something else entirely"
            // Well-formed, but the two fields disagree: a rule the API description cannot state, so 422.
            try await client.send(.post, "/api/v1/auth/register", json: mismatched) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
                #expect(response.errorBody?.details?["confirmPassword"] != nil)
            }
            // With a field that breaks the description too, it is a 400 naming both.
            mismatched["username"] = "x"
            try await client.send(.post, "/api/v1/auth/register", json: mismatched) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.details?["confirmPassword"] != nil)
                #expect(response.errorBody?.details?["username"] != nil)
            }
            try await client.send(.post, "/api/v1/auth/register", json: ["username": "only_name"]) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
            }
            try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"username": 5, "email": [], "password": true, "confirmPassword": null}"#)
            ) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
            }
            try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "[1,2")
            ) { response throws in
                #expect(response.status == .badRequest)
                #expect(response.errorBody?.code == "INVALID_JSON")
            }
            try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: 2 << 20)
            ) { response throws in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorBody?.code == "PAYLOAD_TOO_LARGE")
            }
        }
    }
}
