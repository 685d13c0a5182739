import Foundation
import Logging
import NIOCore
import NIOPosix
import TestSupport
import Testing
import VoiceFlowRedis

/// `rediss://` against a real redis-server listening with TLS only, on a certificate made by
/// openssl for the test.
@Suite(.timeLimit(.minutes(2))) struct RedisTLSTests {
    /// A CA and a server certificate for `localhost` / 127.0.0.1, in a fresh directory.
    struct Certificates {
        let directory: String
        var ca: String { directory + "/ca.pem" }
        var certificate: String { directory + "/server.pem" }
        var key: String { directory + "/server.key" }

        static func make() throws -> Certificates {
            let directory = NSTemporaryDirectory() + "voiceflow-tls-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let certificates = Certificates(directory: directory)
            try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=VoiceFlow test CA",
                "-keyout", directory + "/ca.key", "-out", certificates.ca])
            try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-keyout", certificates.key, "-out", directory + "/server.csr"])
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
            try Self.openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", certificates.ca, "-CAkey", directory + "/ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", directory + "/san.ext", "-out", certificates.certificate])
            return certificates
        }

        static func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// redis-server with `--port 0 --tls-port N`: TLS only.
    static func startTLSServer(_ certificates: Certificates) throws -> (Process, Int) {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--tls-cert-file", certificates.certificate, "--tls-key-file", certificates.key, "--tls-ca-cert-file", certificates.ca,
            "--tls-auth-clients", "no", "--requirepass", "tls-test-password",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, port)
    }

    /// PINGs until the server answers (it is starting), or gives up after `attempts`.
    static func answers(_ url: String, attempts: Int) async throws -> Bool {
        var configuration = try RedisConfiguration(url: url)
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaxDelay = .milliseconds(50)
        let client = RedisClient(configuration: configuration, logger: TestEnvironment.logger())
        defer { Task { await client.shutdown() } }
        for _ in 0..<attempts {
            if (try? await client.ping()) != nil { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func redissConnectsOverTLSAndVerifiesTheServer() async throws {
        let certificates = try Certificates.make()
        defer { certificates.remove() }
        let (server, port) = try Self.startTLSServer(certificates)
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }

        // With the CA: commands, pub/sub and AUTH all go through TLS.
        let trusted = "rediss://:tls-test-password@localhost:\(port)/0?ssl_ca_certs=\(certificates.ca)"
        #expect(try await Self.answers(trusted, attempts: 200))
        let client = RedisClient(configuration: try RedisConfiguration(url: trusted), logger: TestEnvironment.logger())
        try await client.send("SET", "over-tls", "yes")
        #expect(try await client.send("GET", "over-tls").string == "yes")
        let subscriber = RedisSubscriber(configuration: try RedisConfiguration(url: trusted), logger: TestEnvironment.logger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscriber.run() }
            let subscription = try await subscriber.subscribe(["tls"])
            #expect(try await client.publish("tls", "hello") == 1)
            var iterator = subscription.makeAsyncIterator()
            #expect(await iterator.next()?.string == "hello")
            await subscriber.shutdown()
            group.cancelAll()
        }
        await client.shutdown()

        // By IP address too (checked against the certificate's IP entry).
        #expect(try await Self.answers("rediss://:tls-test-password@127.0.0.1:\(port)/0?ssl_ca_certs=\(certificates.ca)", attempts: 5))
        // A server the system trust store does not know is refused...
        #expect(try await Self.answers("rediss://:tls-test-password@localhost:\(port)/0", attempts: 5) == false)
        // ...unless verification is turned off explicitly.
        #expect(try await Self.answers("rediss://:tls-test-password@localhost:\(port)/0?ssl_cert_reqs=none", attempts: 5))
        // Plain TCP to the TLS port gets nowhere.
        #expect(try await Self.answers("redis://:tls-test-password@localhost:\(port)/0", attempts: 3) == false)
    }

    @Test func tlsURLsAreParsedAndBadOnesNamed() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:6379")
        #expect(plain.tls == nil)
        let secure = try RedisConfiguration(url: "rediss://:pw@redis.internal:6380/2?ssl_cert_reqs=none")
        #expect(secure.tls == RedisTLS(caFile: nil, verifiesServer: false))
        #expect(secure.description == "rediss://redis.internal:6380/2")
        #expect(throws: RedisError.invalidURL("ssl_ca_certs /nonexistent/ca.pem cannot be read")) {
            try RedisConfiguration(url: "rediss://redis.internal?ssl_ca_certs=/nonexistent/ca.pem")
        }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "rediss://redis.internal?ssl_cert_reqs=maybe") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://redis.internal?ssl_ca_certs=/ca.pem") }
    }
}
