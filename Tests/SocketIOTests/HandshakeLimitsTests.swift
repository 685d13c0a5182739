import Foundation
import Testing

@testable import VoiceFlowSocketIO

/// A flood of handshakes cannot degrade a server: silent sessions are capped per address and in
/// total, new sessions are metered, refusals say when to come back, and an abandoned session is
/// dropped after the connect timeout without costing anything meanwhile.
@Suite struct HandshakeLimitsTests {
    static func server(_ limits: HandshakeLimits, connectTimeout: Duration = .seconds(30)) -> SocketIOServer {
        var configuration = SocketIOConfiguration()
        configuration.engine.handshakeLimits = limits
        configuration.connectTimeout = connectTimeout
        return SocketIOServer(configuration: configuration, logger: .init(label: "handshake-limits"))
    }

    static func handshake(_ engine: EngineServer, from address: String?) async -> EngineHTTPResponse {
        await engine.handle(
            EngineHTTPRequest(method: "GET", query: ["EIO": "4", "transport": "polling"], headers: [:], remoteAddress: address)
        ) { _ in nil }
    }

    static func sid(of response: EngineHTTPResponse) throws -> String {
        let open = try #require(response.body.first == "0" ? response.body.dropFirst() : nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(open.utf8)) as? [String: Any])
        return try #require(object["sid"] as? String)
    }

    /// Runs the engine (its sessions' heartbeats and handlers) around `body`.
    static func running(_ io: SocketIOServer, _ body: (EngineServer) async throws -> Void) async throws {
        let engine = io.engine
        let runner = Task { try await engine.run() }
        defer {
            engine.shutdown()
            runner.cancel()
        }
        try await body(engine)
    }

    @Test func oneAddressGets429OnceItHoldsItsShareOfSilentSessions() async throws {
        var limits = HandshakeLimits()
        limits.maxPendingPerAddress = 3
        try await Self.running(Self.server(limits)) { engine in
            for _ in 0..<3 { #expect(await Self.handshake(engine, from: "10.0.0.1").status == 200) }
            let refused = await Self.handshake(engine, from: "10.0.0.1")
            #expect(refused.status == 429)
            #expect(refused.headers.contains { $0.0 == "Retry-After" })
            #expect(refused.body.contains("\"message\""))
            // Other clients are not affected.
            #expect(await Self.handshake(engine, from: "10.0.0.2").status == 200)
        }
    }

    @Test func aSessionThatSpeaksNoLongerCountsAsSilent() async throws {
        var limits = HandshakeLimits()
        limits.maxPendingPerAddress = 1
        try await Self.running(Self.server(limits)) { engine in
            let sid = try Self.sid(of: await Self.handshake(engine, from: "10.0.0.1"))
            #expect(await Self.handshake(engine, from: "10.0.0.1").status == 429)
            // Its Socket.IO CONNECT.
            let posted = await engine.handle(
                EngineHTTPRequest(method: "POST", query: ["EIO": "4", "transport": "polling", "sid": sid], headers: [:])
            ) { _ in "40" }
            #expect(posted.status == 200)
            #expect(engine.pendingSessionCount == 0)
            #expect(await Self.handshake(engine, from: "10.0.0.1").status == 200)
        }
    }

    @Test func theServerAnswers503WhenItHoldsTooManySilentSessions() async throws {
        var limits = HandshakeLimits()
        limits.maxPending = 4
        try await Self.running(Self.server(limits)) { engine in
            for index in 0..<4 { #expect(await Self.handshake(engine, from: "10.0.1.\(index)").status == 200) }
            let refused = await Self.handshake(engine, from: "10.0.2.1")
            #expect(refused.status == 503)
            #expect(refused.headers.contains { $0 == ("Retry-After", "1") })
        }
    }

    @Test func newSessionsAreMeteredWithRetryAfter() async throws {
        var limits = HandshakeLimits()
        limits.perSecond = 1
        limits.burst = 2
        try await Self.running(Self.server(limits)) { engine in
            #expect(await Self.handshake(engine, from: "10.0.0.1").status == 200)
            #expect(await Self.handshake(engine, from: "10.0.0.2").status == 200)
            let refused = await Self.handshake(engine, from: "10.0.0.3")
            #expect(refused.status == 503)
            let retryAfter = try #require(refused.headers.first { $0.0 == "Retry-After" }.flatMap { Int($0.1) })
            #expect(retryAfter >= 1)
        }
    }

    @Test func abandonedSessionsAreDroppedAfterTheConnectTimeoutAndFreeTheirPlaces() async throws {
        var limits = HandshakeLimits()
        limits.maxPendingPerAddress = 50
        try await Self.running(Self.server(limits, connectTimeout: .milliseconds(200))) { engine in
            var sids: [String] = []
            for _ in 0..<50 { sids.append(try Self.sid(of: await Self.handshake(engine, from: "10.0.0.1"))) }
            #expect(engine.sessionCount == 50)
            #expect(engine.pendingSessionCount == 50)
            // Never polled: nobody is waiting for a `close` packet, so they are forgotten at once
            // (not kept for a heartbeat's worth of time).
            let deadline = ContinuousClock.now + .seconds(20)
            while engine.sessionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(engine.sessionCount == 0)
            #expect(engine.pendingSessionCount == 0)
            let poll = await engine.handle(
                EngineHTTPRequest(method: "GET", query: ["EIO": "4", "transport": "polling", "sid": sids[0]], headers: [:])
            ) { _ in nil }
            #expect(poll.status == 400)
        }
    }

    @Test func pausedAdmissionRefusesNewSessionsButKeepsOpenOnes() async throws {
        try await Self.running(Self.server(HandshakeLimits())) { engine in
            let sid = try Self.sid(of: await Self.handshake(engine, from: "10.0.3.1"))
            engine.setAdmissionPaused(true)
            #expect(!engine.isAdmitting)
            #expect(engine.isAccepting)
            let refused = await Self.handshake(engine, from: "10.0.3.2")
            #expect(refused.status == 503)
            #expect(refused.headers.contains { $0 == ("Retry-After", "1") })
            // The session opened before the pause still speaks.
            let posted = await engine.handle(
                EngineHTTPRequest(method: "POST", query: ["EIO": "4", "transport": "polling", "sid": sid], headers: [:])
            ) { _ in "40" }
            #expect(posted.status == 200)
            engine.setAdmissionPaused(false)
            #expect(await Self.handshake(engine, from: "10.0.3.2").status == 200)
        }
    }

    @Test func resumingAdmissionAfterShutdownAdmitsNothing() async throws {
        try await Self.running(Self.server(HandshakeLimits())) { engine in
            engine.shutdown()
            engine.setAdmissionPaused(false)
            #expect(!engine.isAdmitting)
            #expect(await Self.handshake(engine, from: "10.0.3.3").status == 503)
        }
    }
}
