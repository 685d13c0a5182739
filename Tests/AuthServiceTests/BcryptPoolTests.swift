import Dispatch
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing
import VoiceFlowCommon

@testable import AuthService

@Suite(.timeLimit(.minutes(3))) struct BcryptPoolTests {
    /// Holds pool threads busy until released, and tells when each hold has begun.
    final class Holds: Sendable {
        let release = DispatchSemaphore(value: 0)
        let started: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() {
            (started, continuation) = AsyncStream<Void>.makeStream()
        }

        /// Occupies one slot of `pool` until ``releaseAll(_:)``; returns once the work is running.
        func occupy(_ pool: BcryptPool, in group: inout ThrowingTaskGroup<Void, any Error>, iterator: inout AsyncStream<Void>.Iterator) async {
            let continuation = self.continuation
            let release = self.release
            group.addTask {
                try await pool.run {
                    continuation.yield()
                    release.wait()
                }
            }
            _ = await iterator.next()
        }

        func releaseAll(_ count: Int) {
            for _ in 0..<count { release.signal() }
        }
    }

    /// Every thread of the pool busy and no room to queue: sign-ins and sign-ups answer 503 with
    /// `Retry-After` at once, while the rest of the service (health, key set) answers as usual; once
    /// the pool has room again, the same login succeeds.
    @Test func aFullPoolShedsSignInsWith503WhileTheServiceStaysUp() async throws {
        let pool = BcryptPool(threads: 2, queueLength: 0)
        let configuration = try AuthConfiguration(environment: EnvironmentReader(TestEnvironment.serviceVariables()))
        let application = try await buildApplication(configuration: configuration, logger: TestEnvironment.logger("auth"), bcryptPool: pool)
        try await application.test(.live) { client in
            let credentials = Credentials.unique("pool")
            _ = try await client.register(credentials)
            let login: [String: String?] = ["email": credentials.email, "password": credentials.password]

            let holds = Holds()
            var iterator = holds.started.makeAsyncIterator()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<pool.threads {
                    await holds.occupy(pool, in: &group, iterator: &iterator)
                }
                #expect(pool.occupancy == pool.threads)
                try await client.send(.post, "/api/v1/auth/login", json: login) { response throws in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.errorBody?.code == "SERVICE_UNAVAILABLE")
                    #expect(response.headers[.retryAfter] == "1")
                }
                try await client.send(.post, "/api/v1/auth/register", json: Credentials.unique("full").registration) { response throws in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] != nil)
                }
                try await client.send(.get, "/health") { response throws in #expect(response.status == .ok) }
                try await client.send(.get, "/.well-known/jwks.json") { response throws in #expect(response.status == .ok) }
                holds.releaseAll(pool.threads)
                try await group.waitForAll()
            }
            #expect(pool.occupancy == 0)
            try await client.send(.post, "/api/v1/auth/login", json: login) { response throws in
                #expect(response.status == .ok)
            }
        }
    }

    /// Work beyond the threads waits in the queue (and then runs), up to its length; past it, 503.
    @Test func waitingWorkIsBoundedByTheQueue() async throws {
        let pool = BcryptPool(threads: 1, queueLength: 1)
        let holds = Holds()
        var iterator = holds.started.makeAsyncIterator()
        try await withThrowingTaskGroup(of: Void.self) { group in
            await holds.occupy(pool, in: &group, iterator: &iterator)
            let queued = Task { try await pool.run { 42 } }
            // The queued job is admitted as soon as its task runs; wait for that without a clock.
            while pool.occupancy < 2 { await Task.yield() }
            await #expect(throws: APIError.self) { try await pool.run { 0 } }
            holds.releaseAll(1)
            #expect(try await queued.value == 42)
            try await group.waitForAll()
        }
        #expect(pool.occupancy == 0)
        #expect(try await pool.run { 7 } == 7)
        try await pool.shutdown()
    }
}
