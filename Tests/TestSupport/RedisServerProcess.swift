import Foundation
import NIOCore
import NIOPosix

/// A private `redis-server` on a free loopback port, for tests that stop and restart Redis.
///
/// ```swift
/// let server = try await RedisServerProcess.start()
/// defer { server.stop() }
/// try server.kill(); try await server.restart()
/// ```
public final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns this object, one call at a time.
    public let port: Int
    private let extraArguments: [String]
    private var process: Process?

    /// The URL clients use.
    public var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int, extraArguments: [String]) {
        self.port = port
        self.extraArguments = extraArguments
    }

    /// Starts a server on a free port (with extra `redis-server` arguments, e.g. `--requirepass`)
    /// and waits until it accepts connections.
    public static func start(arguments: [String] = []) async throws -> RedisServerProcess {
        let server = RedisServerProcess(port: try freePort(), extraArguments: arguments)
        try await server.restart()
        return server
    }

    /// (Re)starts the server on the same port.
    public func restart() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"] ?? "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await waitUntilAccepting()
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    public func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Stops the server.
    public func stop() {
        kill()
    }

    deinit {
        if let process, process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
        }
    }

    private func waitUntilAccepting() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisServerProcessError.didNotStart(port: port)
    }

    /// A port the kernel just handed out and released.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        guard let port = channel.localAddress?.port else { throw RedisServerProcessError.noFreePort }
        return port
    }
}

/// Why a private Redis could not be started.
public enum RedisServerProcessError: Error {
    case didNotStart(port: Int)
    case noFreePort
}
