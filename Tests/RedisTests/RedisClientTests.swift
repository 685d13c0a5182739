import Logging
import TestSupport
import Testing
import VoiceFlowRedis

/// The command client against real redis-server processes.
@Suite(.timeLimit(.minutes(2))) struct RedisClientTests {
    static func client(_ server: RedisServerProcess, _ configure: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: server.url)
        configure(&configuration)
        return RedisClient(configuration: configuration, logger: TestEnvironment.logger("redis"))
    }

    @Test func repliesOfEveryType() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let redis = try Self.client(server)
        #expect(try await redis.send("SET", "k", "v") == .simpleString("OK"))
        #expect(try await redis.send("GET", "k") == .bulkString(Array("v".utf8)))
        #expect(try await redis.send("GET", "missing") == .null)
        #expect(try await redis.send("INCRBY", "n", "-5") == .integer(-5))
        let binary: [UInt8] = [0, 13, 10, 255, 0]
        try await redis.send(bytes: [Array("SET".utf8), Array("bin".utf8), binary])
        #expect(try await redis.send("GET", "bin").bytes == binary)
        try await redis.send("SET", "empty", "")
        #expect(try await redis.send("GET", "empty") == .bulkString([]))
        #expect(try await redis.send("LRANGE", "nothing", "0", "-1") == .array([]))
        let nested = try await redis.send("EVAL", "return {1, {'a', {}}, 'b'}", "0")
        #expect(nested == .array([.integer(1), .array([.bulkString(Array("a".utf8)), .array([])]), .bulkString(Array("b".utf8))]))
        await #expect(throws: RedisError.self) { try await redis.send("LPUSH", "k", "x") }
        do {
            try await redis.send("NOSUCHCOMMAND")
            Issue.record("expected an error reply")
        } catch {
            guard case .server(let message) = error else { Issue.record("wrong error \(error)"); return }
            #expect(message.contains("unknown command"))
        }
        await redis.shutdown()
    }

    @Test func pipelinesKeepOrderAndErrorsStayInPlace() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let redis = try Self.client(server)
        let replies = try await redis.pipeline(Array(repeating: ["INCR", "counter"], count: 1000))
        #expect(replies == (1...1000).map { .integer($0) })
        let mixed = try await redis.pipeline([["SET", "s", "1"], ["LPUSH", "s", "x"], ["GET", "s"]])
        #expect(mixed[0] == .simpleString("OK"))
        guard case .error = mixed[1] else { Issue.record("expected an error in place"); return }
        #expect(mixed[2].string == "1")

        // Many tasks at once each get their own reply.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<200 {
                group.addTask {
                    try await redis.send("SET", "key-\(task)", "value-\(task)")
                    let value = try await redis.send("GET", "key-\(task)").string
                    #expect(value == "value-\(task)")
                }
            }
            try await group.waitForAll()
        }
        await redis.shutdown()
        await #expect(throws: RedisError.clientClosed) { try await redis.ping() }
    }

    @Test func authenticationAndDatabaseSelection() async throws {
        let server = try await RedisServerProcess.start(arguments: ["--requirepass", "s3cret"])
        defer { server.stop() }
        let anonymous = try Self.client(server)
        await #expect(throws: RedisError.self) { try await anonymous.send("SET", "a", "b") }
        let three = try Self.client(server) { $0.password = "s3cret"; $0.database = 3 }
        let zero = try Self.client(server) { $0.password = "s3cret" }
        try await three.send("SET", "where", "three")
        #expect(try await three.send("GET", "where").string == "three")
        #expect(try await zero.send("GET", "where") == .null)
        let wrong = try Self.client(server) { $0.password = "nope" }
        await #expect(throws: RedisError.self) { try await wrong.ping() }
        for client in [anonymous, three, zero, wrong] { await client.shutdown() }
    }

    @Test func scriptsRunByShaAndSurviveAScriptFlush() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let redis = try Self.client(server)
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await redis.eval(script, keys: ["n"], arguments: ["2"]) == .integer(2))
        #expect(try await redis.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))
        try await redis.send("SCRIPT", "FLUSH")
        #expect(try await redis.eval(script, keys: ["n"], arguments: ["3"]) == .integer(5))
        await redis.shutdown()
    }

    @Test func slowCommandsTimeOutAndTheClientCarriesOn() async throws {
        let server = try await RedisServerProcess.start(arguments: ["--enable-debug-command", "yes"])
        defer { server.stop() }
        let redis = try Self.client(server) { $0.commandTimeout = .seconds(1); $0.poolSize = 1 }
        // Connected first (on a loaded machine a fresh server may take a moment to answer), so the
        // one failure below is the slow command's.
        var connected = false
        for _ in 0..<50 where !connected {
            connected = (try? await redis.ping()) != nil
            if !connected { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(connected)
        await #expect(throws: RedisError.timeout) { try await redis.send("DEBUG", "SLEEP", "3") }
        // The timed-out connection was dropped; the next command gets a fresh one once Redis answers.
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = (try? await redis.ping()) != nil
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered)
        await redis.shutdown()
    }

    @Test func aDeadServerFailsFastAndAReturningOneIsUsedAgain() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        let redis = try Self.client(server) { $0.reconnectMaxDelay = .milliseconds(200) }
        try await redis.send("SET", "before", "1")
        server.kill()
        await #expect(throws: RedisError.self) { try await redis.ping() }

        try await server.restart()
        var recovered = false
        for _ in 0..<100 where !recovered {
            recovered = (try? await redis.send("SET", "after", "1")) != nil
            if !recovered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recovered)
        await redis.shutdown()
    }
}
