import Foundation
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

/// Auth keeps answering while Redis is down and recovers by itself when it returns.
@Suite(.timeLimit(.minutes(3))) struct RedisOutageTests {
    @Test func authSurvivesARedisRestart() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.stop() }
        try await withAuthService(["REDIS_URL": redis.url]) { client in
            let credentials = Credentials.unique("outage")
            _ = try await client.register(credentials)
            let login: [String: String?] = ["email": credentials.email, "password": credentials.password]

            redis.kill()
            try await client.send(.get, "/ready") { response throws in
                #expect(response.status == .serviceUnavailable)
                #expect(try response.json(ReadinessReport.self).checks["redis"] == "down")
            }
            // Logins still work (the limiter fails open), and nothing answers 5xx but /ready.
            try await client.send(.post, "/api/v1/auth/login", json: login) { response throws in
                #expect(response.status == .ok)
            }
            // Registration too: the account matters more than its welcome email, which cannot be queued.
            try await client.send(.post, "/api/v1/auth/register", json: Credentials.unique("offline").registration) { response throws in
                #expect(response.status == .created)
            }

            try await redis.restart()
            // The same process reconnects on its own: /ready turns green again without a restart.
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await client.send(.get, "/ready") { $0.status == .ok }
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready)
            try await client.send(.post, "/api/v1/auth/login", json: login) { response throws in
                #expect(response.status == .ok)
            }
        }
    }
}
