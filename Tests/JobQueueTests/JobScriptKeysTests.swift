import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing
import VoiceFlowRedis

@testable import VoiceFlowJobQueue

/// Every key a queue script touches is passed in KEYS (or built from a key prefix passed in KEYS,
/// for job ids only the script knows), and all of them hash to the queue's one cluster slot.
///
/// Checked on a real redis-server in cluster mode (one node holding every slot, so a script whose
/// declared keys span slots fails with CROSSSLOT), with `MONITOR` showing every command each script
/// ran and `COMMAND GETKEYS` naming the keys of each.
@Suite(.timeLimit(.minutes(2))) struct JobScriptKeysTests {
    @Test func everyKeyAScriptTouchesIsDeclaredAndInTheQueuesSlot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jq-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // The cluster bus gets a free port of its own (by default it is the client port + 10000,
        // which may be taken).
        let server = try await RedisServerProcess.start(arguments: [
            "--cluster-enabled", "yes", "--cluster-config-file", directory.appendingPathComponent("nodes.conf").path,
            "--cluster-port", String(try Self.freePort()),
        ])
        defer { server.stop() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: TestEnvironment.logger())
        while (try? await redis.ping()) == nil {
            try await Task.sleep(for: .milliseconds(20))  // until the fresh server answers commands
        }
        try await redis.send("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        while try await redis.send("CLUSTER", "INFO").string?.contains("cluster_state:ok") != true {
            try await Task.sleep(for: .milliseconds(20))  // the node takes a moment to call the cluster up
        }
        let monitor = try await RedisMonitor.start(port: server.port)
        defer { monitor.stop() }

        try await Self.exerciseEveryScript(redis)
        let marker = "end-\(UUID().uuidString)"
        try await redis.send("ECHO", marker)
        let lines = try await monitor.lines(until: marker)

        var seenScripts = Set<String>()
        var declared: [String] = []
        var innerCommands = 0
        for line in lines {
            guard let entry = MonitorLine(line) else { continue }
            let command = entry.arguments.first?.lowercased() ?? ""
            if !entry.fromScript {
                guard command == "evalsha" || command == "eval", entry.arguments.count >= 3, let count = Int(entry.arguments[2]) else {
                    continue
                }
                seenScripts.insert(command == "eval" ? RedisScript(entry.arguments[1]).sha1 : entry.arguments[1])
                declared = Array(entry.arguments[3..<(3 + count)])
                #expect(!declared.isEmpty, "a script declares no keys")
                continue
            }
            innerCommands += 1
            let keys = try await redis.send(["COMMAND", "GETKEYS"] + entry.arguments).array?.compactMap(\.string) ?? []
            let slot = try await redis.send("CLUSTER", "KEYSLOT", declared.first ?? "").int
            for key in keys {
                let isDeclared = declared.contains(key) || declared.contains { $0.hasSuffix(":") && key.hasPrefix($0) }
                #expect(isDeclared, "\(entry.arguments[0]) touches \(key), which is not in KEYS \(declared)")
                #expect(try await redis.send("CLUSTER", "KEYSLOT", key).int == slot, "\(key) is not in the queue's slot")
            }
        }
        #expect(innerCommands > 100)
        let expected: [String: RedisScript] = [
            "add": JobScripts.add, "moveToActive": JobScripts.moveToActive, "extendLock": JobScripts.extendLock,
            "finish": JobScripts.finish, "release": JobScripts.release, "sweepStalled": JobScripts.sweepStalled,
            "progress": JobScripts.progress, "retry": JobQueue.retryScript, "clean": JobQueue.cleanScript,
            "claim": JobScheduler.claimScript,
        ]
        for (name, script) in expected {
            #expect(seenScripts.contains(script.sha1), "the \(name) script was not exercised")
        }
        await redis.shutdown()
    }

    /// A loopback port the kernel just handed out and released.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress?.port ?? 0
    }

    /// Runs every queue script at least once, through every branch that touches keys.
    static func exerciseEveryScript(_ redis: RedisClient) async throws {
        let clock = ManualClock()
        var queue = JobQueue(name: "keys-\(TestEnvironment.uniqueSuffix())", redis: redis, now: { clock.now })
        queue.keepCompleted = 1
        queue.keepFailed = 1
        try await queue.add(name: "n", data: "plain")
        try await queue.add(name: "n", data: "chosen", options: JobOptions(jobID: "chosen:1"))
        try await queue.add(name: "n", data: "chosen again", options: JobOptions(jobID: "chosen:1"))
        try await queue.add(name: "n", data: "lifo", options: JobOptions(lifo: true))
        try await queue.add(name: "n", data: "urgent", options: JobOptions(priority: 1))
        try await queue.add(name: "n", data: "later", options: JobOptions(delay: .seconds(5), priority: 2))
        try await queue.add(name: "n", data: "later lifo", options: JobOptions(delay: .seconds(5), lifo: true))
        try await queue.add(name: "n", data: "retried", options: JobOptions(attempts: 2))
        clock.advance(.seconds(10))
        var taken: [ActiveJob] = []
        while let job = try await queue.take(lock: .seconds(30)).job { taken.append(job) }
        #expect(taken.count == 7)
        for job in taken {
            try await queue.updateProgress(job, "50")
            _ = try await queue.extendLock(job, by: .seconds(30))
            switch job.data {
            case "retried": try await queue.fail(job, reason: "again", retryDelay: .zero)
            case "plain", "lifo": try await queue.fail(job, reason: "dead", retryDelay: nil)
            case "urgent": try await queue.release(job)
            default: try await queue.complete(job, result: "ok")
            }
        }
        let again = try #require(try await queue.take(lock: .seconds(30)).job)
        try await redis.send("DEL", queue.prefix + "lock:" + again.id)
        _ = try await queue.sweepStalled(maxStalled: 1, interval: .seconds(30))
        let stalled = try #require(try await queue.take(lock: .seconds(30)).job)
        try await redis.send("DEL", queue.prefix + "lock:" + stalled.id, queue.prefix + "stalled-check")
        _ = try await queue.sweepStalled(maxStalled: 0, interval: .seconds(30))  // straight to the dead set
        try await queue.retryFailed(id: stalled.id)
        try await queue.retryFailed()
        try await queue.setRateLimit(JobRateLimit(max: 1, per: .seconds(60)))
        _ = try await queue.take(lock: .seconds(30))
        _ = try await queue.take(lock: .seconds(30))  // over the limit
        try await queue.setRateLimit(nil)
        try await queue.pause()
        _ = try await queue.take(lock: .seconds(30))
        try await queue.resume()
        clock.advance(.seconds(60))
        try await queue.clean(.completed)
        try await queue.clean(.failed)
        let scheduler = JobScheduler(
            redis: redis, jobs: [RepeatableJob(queue: queue.name, name: "tick", schedule: .every(.seconds(1)))],
            logger: TestEnvironment.logger(), now: { clock.now })
        #expect(await scheduler.runDue() == ["tick"])
    }
}

/// `redis-cli monitor` on a server, its lines as they come.
final class RedisMonitor: Sendable {
    private let process: Process
    private let stream: AsyncStream<String>

    private init(process: Process, stream: AsyncStream<String>) {
        self.process = process
        self.stream = stream
    }

    /// Starts monitoring and returns once the server confirmed (`OK`).
    static func start(port: Int) async throws -> RedisMonitor {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-p", String(port), "monitor"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Mutex<[UInt8]>([])
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let lines = pending.withLock { buffer -> [String] in
                buffer += data
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return lines
            }
            for line in lines { continuation.yield(line) }
        }
        try process.run()
        let monitor = RedisMonitor(process: process, stream: stream)
        for await line in stream where line == "OK" { return monitor }
        throw RedisServerProcessError.didNotStart(port: port)
    }

    /// The lines up to the one that contains `marker`.
    func lines(until marker: String) async throws -> [String] {
        var lines: [String] = []
        for await line in stream {
            if line.contains(marker) { return lines }
            lines.append(line)
        }
        return lines
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }
}

/// One `MONITOR` line: `<time> [<db> <client>|lua] "arg" "arg" ...`.
struct MonitorLine {
    let fromScript: Bool
    let arguments: [String]

    init?(_ line: String) {
        guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { return nil }
        fromScript = line[open..<close].hasSuffix(" lua")
        var arguments: [String] = []
        var bytes = Array(line[line.index(after: close)...].utf8)[...]
        while let quote = bytes.firstIndex(of: UInt8(ascii: "\"")) {
            bytes = bytes[(quote + 1)...]
            var value: [UInt8] = []
            while let byte = bytes.first {
                bytes = bytes.dropFirst()
                if byte == UInt8(ascii: "\"") { break }
                guard byte == UInt8(ascii: "\\"), let escaped = bytes.first else {
                    value.append(byte)
                    continue
                }
                bytes = bytes.dropFirst()
                switch escaped {
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "r"): value.append(0x0D)
                case UInt8(ascii: "t"): value.append(0x09)
                case UInt8(ascii: "a"): value.append(0x07)
                case UInt8(ascii: "b"): value.append(0x08)
                case UInt8(ascii: "x"):
                    let hex = String(decoding: bytes.prefix(2), as: UTF8.self)
                    bytes = bytes.dropFirst(2)
                    value.append(UInt8(hex, radix: 16) ?? 0)
                default: value.append(escaped)
                }
            }
            arguments.append(String(decoding: value, as: UTF8.self))
        }
        guard !arguments.isEmpty else { return nil }
        self.arguments = arguments
    }
}
