import AuthService
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon
import VoiceFlowJobQueue
import VoiceFlowRedis

/// A change of e-mail address is confirmed through the new address, and asking for one tells nothing
/// about whether the address is registered.
@Suite(.timeLimit(.minutes(3))) struct EmailChangeTests {
    @Test func theAnswerIsTheSameForAFreeAndATakenAddress() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("same"))
            let bob = try await client.register(.unique("holder"))
            let free = "free.\(TestEnvironment.uniqueSuffix())@example.com"
            var answers: [Set<String>] = []
            for email in [free, bob.user.email.uppercased()] {
                try await client.send(.patch, "/api/v1/users/\(alice.user.id)", json: ["email": email], token: alice.token) {
                    response throws in
                    #expect(response.status == .ok)
                    let user = try response.json(UserDTO.self)
                    #expect(user.email == alice.user.email)
                    #expect(user.pendingEmail == email.lowercased())
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    answers.append(Set(object.keys))
                }
            }
            // The same fields either way, `pendingEmail` among them.
            #expect(answers.count == 2 && answers[0] == answers[1] && answers[0].contains("pendingEmail"))
            try await client.send(.get, "/api/v1/users/me", token: alice.token) { response throws in
                #expect(try response.json(UserDTO.self).email == alice.user.email)
            }
        }
    }

    @Test func theNewAddressGetsATokenThatConfirmsTheChangeOnce() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("move"))
            let newEmail = "moved.\(TestEnvironment.uniqueSuffix())@example.com"
            let token = try await requestChange(client, alice, to: newEmail)
            let job = try #require(try await QueuedEmails.confirmation(for: alice.user.id))
            #expect(job.newEmail == newEmail)
            #expect(job.token == token)
            #expect(job.token.count == 43)  // 32 bytes, base64url without padding
            #expect(job.expiresAt > Date().addingTimeInterval(23 * 3600))

            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": token]) { response throws in
                #expect(response.status == .ok)
                let user = try response.json(UserDTO.self)
                #expect(user.email == newEmail)
                #expect(user.pendingEmail == nil)
            }
            try await client.send(.get, "/api/v1/users/me", token: alice.token) { response throws in
                #expect(try response.json(UserDTO.self).email == newEmail)
            }
            // Single use.
            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": token]) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(response.errorBody?.code == "VALIDATION_FAILED")
            }
        }
    }

    @Test func aNewRequestReplacesTheOldOne() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("twice"))
            let first = try await requestChange(client, alice, to: "first.\(TestEnvironment.uniqueSuffix())@example.com")
            let second = "second.\(TestEnvironment.uniqueSuffix())@example.com"
            let latest = try await requestChange(client, alice, to: second)
            #expect(first != latest)
            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": first]) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": latest]) { response throws in
                #expect(response.status == .ok)
                #expect(try response.json(UserDTO.self).email == second)
            }
        }
    }

    @Test func aTakenAddressGetsANoticeWithoutAToken() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("probe"))
            let bob = try await client.register(.unique("owner"))
            try await client.send(.patch, "/api/v1/users/\(alice.user.id)", json: ["email": bob.user.email], token: alice.token) {
                response throws in
                #expect(response.status == .ok)
            }
            let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
            let queue = JobQueue(name: PlatformJobs.emailQueue, redis: redis)
            let day = String(Date().formatted(.iso8601.year().month().day()).prefix(10))
            let job = try #require(try await queue.job("email-change-notice:\(bob.user.id.lowercased()):\(day)"))
            await redis.shutdown()
            #expect(job["name"] == PlatformJobs.EmailChangeNotice.name)
            let data = try #require(job["data"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["userId"])
            #expect((object["userId"] as? String)?.lowercased() == bob.user.id.lowercased())
            // Nothing goes to the requester's side: no confirmation for the taken address.
            #expect(try await QueuedEmails.confirmation(for: alice.user.id) == nil)
        }
    }

    /// An expired or unknown token is 422 (the description cannot say which tokens exist); a body
    /// without a token string is 400.
    @Test func expiredAndUnknownTokensAreRefused() async throws {
        // Tokens minted by this service expired a minute before they were made.
        try await withAuthService(configure: { $0.emailChangeLifetime = .seconds(-60) }) { client in
            let alice = try await client.register(.unique("late"))
            let token = try await requestChange(client, alice, to: "late.\(TestEnvironment.uniqueSuffix())@example.com")
            for candidate in [token, String(repeating: "A", count: 43), "not-a-token", token + "\n", ""] {
                try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": candidate]) { response throws in
                    #expect(response.status == .unprocessableContent, "\(candidate)")
                    #expect(response.errorBody?.code == "VALIDATION_FAILED")
                }
            }
            for body in [["token": nil], [:]] as [[String: String?]] {
                try await client.send(.post, "/api/v1/auth/confirm-email", json: body) { response throws in
                    #expect(response.status == .badRequest)
                }
            }
            try await client.send(.get, "/api/v1/users/me", token: alice.token) { response throws in
                #expect(try response.json(UserDTO.self).email == alice.user.email)
            }
        }
    }

    @Test func anAddressTakenMeanwhileIsAConflict() async throws {
        try await withAuthService { client in
            let alice = try await client.register(.unique("slow"))
            var quick = Credentials.unique("quick")
            let token = try await requestChange(client, alice, to: quick.email)
            quick.email = quick.email.uppercased()
            _ = try await client.register(quick)
            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": token]) { response throws in
                #expect(response.status == .conflict)
                #expect(response.errorBody?.code == "EMAIL_TAKEN")
            }
            try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": token]) { response throws in
                #expect(response.status == .unprocessableContent)
            }
        }
    }

    @Test func confirmationsAreRateLimitedPerAddress() async throws {
        try await withAuthService(["RATE_LIMIT_EMAIL_CONFIRM_PER_IP": "3"]) { client in
            let address: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "198.51.100.\(Int.random(in: 1...254))-\(TestEnvironment.uniqueSuffix())"]
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                try await client.send(.post, "/api/v1/auth/confirm-email", json: ["token": "guess"], headers: address) { response in
                    statuses.append(response.status)
                }
            }
            #expect(statuses == [.unprocessableContent, .unprocessableContent, .unprocessableContent, .tooManyRequests, .tooManyRequests])
        }
    }

    /// Asks for a change of `session`'s address to `email` and returns the token the e-mail carries.
    private func requestChange(_ client: any TestClientProtocol, _ session: Session, to email: String) async throws -> String {
        try await client.send(.patch, "/api/v1/users/\(session.user.id)", json: ["email": email], token: session.token) {
            response throws in
            #expect(response.status == .ok)
            #expect(try response.json(UserDTO.self).pendingEmail == email)
        }
        return try #require(try await QueuedEmails.confirmation(for: session.user.id)).token
    }
}

/// The e-mail jobs auth queued, as the jobs service would read them.
enum QueuedEmails {
    /// The newest confirmation queued for `userID`, found through the queue's events.
    static func confirmation(for userID: String) async throws -> PlatformJobs.EmailChangeConfirmation? {
        let redis = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL), logger: TestEnvironment.logger())
        let queue = JobQueue(name: PlatformJobs.emailQueue, redis: redis)
        var found: PlatformJobs.EmailChangeConfirmation?
        do {
            let added = try await queue.events(limit: 20_000).filter {
                ["waiting", "delayed"].contains($0.event) && $0.fields["name"] == PlatformJobs.EmailChangeConfirmation.name
            }
            for event in added.reversed() where found == nil {
                guard let data = try await queue.job(event.jobID)?["data"] else { continue }
                let job = try JSONDecoder().decode(PlatformJobs.EmailChangeConfirmation.self, from: Data(data.utf8))
                if job.userId.uuidString.lowercased() == userID.lowercased() { found = job }
            }
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
        return found
    }
}
