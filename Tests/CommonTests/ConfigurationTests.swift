import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Testing
import VoiceFlowCommon

/// The repository's root, from this file's place in it.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite(.timeLimit(.minutes(3))) struct ConfigurationTests {
    @Test func defaultsReachTheLocalStack() throws {
        let configuration = try ServiceConfiguration(environment: EnvironmentReader([:]), defaultPort: 3001)
        #expect(configuration.mode == .development)
        #expect(configuration.port == 3001)
        #expect(configuration.database.host == "127.0.0.1")
        #expect(configuration.database.database == "voiceflow")
        #expect(configuration.redis.port == 6379)
        #expect(configuration.maxBodyBytes == 1_048_576)
    }

    @Test func productionRefusesDefaultSecrets() {
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "DATABASE_URL")) {
            try ServiceConfiguration(environment: EnvironmentReader(["APP_ENV": "production"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "REDIS_URL")) {
            try ServiceConfiguration(
                environment: EnvironmentReader(["NODE_ENV": "production", "DATABASE_URL": "postgresql://u:strong@db/vf"]),
                defaultPort: 1)
        }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "JWT_PRIVATE_KEY")) {
            try SigningKey.load(
                TokenKeyConfiguration(environment: EnvironmentReader(["JWT_KEY_FILE": "/nonexistent/key.pem"])),
                mode: .production)
        }
    }

    @Test func badValuesAreNamed() {
        #expect(throws: ConfigurationError.invalidValue(key: "PORT", reason: "not an integer")) {
            try ServiceConfiguration(environment: EnvironmentReader(["PORT": "eighty"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(environment: EnvironmentReader(["DATABASE_URL": "mysql://x"]), defaultPort: 1)
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(environment: EnvironmentReader(["APP_ENV": "staging-ish"]), defaultPort: 1)
        }
    }

    @Test func databaseURLIsParsedAndItsDescriptionHidesThePassword() throws {
        let database = try DatabaseConfiguration(url: "postgresql://app:s%40cret@db.internal:6543/chat")
        #expect(database.username == "app")
        #expect(database.password == "s@cret")
        #expect(database.port == 6543)
        #expect(database.database == "chat")
        #expect(!database.description.contains("s@cret"))
        #expect(!database.description.contains("cret"))
    }

    @Test func corsOriginsComeFromBothVariables() throws {
        let configuration = try ServiceConfiguration(
            environment: EnvironmentReader([
                "FRONTEND_URL": "https://chat.example", "SOCKET_CORS_ORIGIN": "https://a.example, https://b.example",
            ]), defaultPort: 1)
        #expect(configuration.allowedOrigins == ["https://chat.example", "https://a.example", "https://b.example"])
    }
}

extension ConfigurationTests {
    /// Production values that pass every other check, to vary one at a time.
    static let production = [
        "APP_ENV": "production", "DATABASE_URL": "postgresql://vf:9f2c41d07a8e5b36@db/vf",
        "REDIS_URL": "redis://:4be1c09f7d2a3e58@redis:6379/0",
    ]

    static func production(_ overrides: [String: String]) throws -> ServiceConfiguration {
        try ServiceConfiguration(environment: EnvironmentReader(production.merging(overrides) { _, new in new }), defaultPort: 1)
    }

    @Test func productionRefusesThePlaceholdersOfTheExampleEnvironment() throws {
        _ = try Self.production([:])
        // The values deploy/.env.example ships with.
        let example = try String(contentsOfFile: repositoryRoot + "/deploy/.env.example", encoding: .utf8)
        func value(_ key: String) -> String? {
            example.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        let databasePassword = try #require(value("POSTGRES_PASSWORD"))
        let redisPassword = try #require(value("REDIS_PASSWORD"))
        #expect(throws: ConfigurationError.placeholderSecretInProduction(key: "DATABASE_URL")) {
            try Self.production(["DATABASE_URL": "postgresql://vf:\(databasePassword)@db/vf"])
        }
        #expect(throws: ConfigurationError.placeholderSecretInProduction(key: "REDIS_URL")) {
            try Self.production(["REDIS_URL": "redis://:\(redisPassword)@redis:6379/0"])
        }
        #expect(PlaceholderSecret.isPlaceholder(try #require(value("EDGE_COOKIE_KEY"))))
        for (key, placeholder) in [("SMTP_PASSWORD", "changeme"), ("FILEFLOW_API_SECRET", "<your secret>"), ("JWT_PRIVATE_KEY", "replace-me")] {
            #expect(throws: ConfigurationError.placeholderSecretInProduction(key: key)) { try Self.production([key: placeholder]) }
        }
        #expect(throws: ConfigurationError.placeholderSecretInProduction(key: "DATABASE_URL")) {
            try Self.production(["DATABASE_URL": "postgresql://vf:password@db/vf"])
        }
        // Outside production the local defaults stay usable.
        _ = try ServiceConfiguration(environment: EnvironmentReader(["REDIS_URL": "redis://:change-me-too@127.0.0.1:6379"]), defaultPort: 1)
        #expect(!PlaceholderSecret.isPlaceholder("b3J5Xq0-9f2c41d07a8e5b36c1"))
    }

    @Test func databaseTLSModesComeFromTheURL() throws {
        let plain = try DatabaseConfiguration(url: "postgresql://u:p@db/vf")
        #expect(plain.sslMode == .prefer)
        #expect(plain.libpqEnvironment == ["PGSSLMODE": "prefer"])
        for mode in DatabaseConfiguration.SSLMode.allCases {
            #expect(try DatabaseConfiguration(url: "postgresql://u:p@db/vf?sslmode=\(mode.rawValue)").sslMode == mode)
        }
        let ca = NSTemporaryDirectory() + "voiceflow-ca-\(TestEnvironment.uniqueSuffix()).pem"
        #expect(FileManager.default.createFile(atPath: ca, contents: Data("ca".utf8)))
        defer { try? FileManager.default.removeItem(atPath: ca) }
        let verified = try DatabaseConfiguration(url: "postgresql://u:p@db/vf?sslmode=verify-full&sslrootcert=\(ca)")
        #expect(verified.sslRootCertificate == ca)
        #expect(verified.libpqEnvironment == ["PGSSLMODE": "verify-full", "PGSSLROOTCERT": ca])
        #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: "postgresql://u:p@db/vf?sslmode=sometimes") }
        #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: "postgresql://u:p@db/vf?sslmode=verify-full&sslrootcert=/nonexistent") }
        #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: "postgresql://u:p@db/vf?sslmode=require&sslrootcert=\(ca)") }
        #expect(throws: ConfigurationError.self) { try DatabaseConfiguration(url: "postgresql://u:p@db/vf?ssl=true") }
    }

    @Test func redisTLSURLsAreAcceptedAndBadOnesNamed() throws {
        let configuration = try ServiceConfiguration(
            environment: EnvironmentReader(["REDIS_URL": "rediss://:pw@redis.internal:6380/0?ssl_cert_reqs=none"]), defaultPort: 1)
        #expect(configuration.redis.tls?.verifiesServer == false)
        #expect(throws: ConfigurationError.invalidValue(key: "REDIS_URL", reason: "ssl_ca_certs /nonexistent cannot be read")) {
            try ServiceConfiguration(environment: EnvironmentReader(["REDIS_URL": "rediss://redis?ssl_ca_certs=/nonexistent"]), defaultPort: 1)
        }
    }
}

/// The compose edge's HAProxy configuration, checked by the installed haproxy and served for real:
/// HTTPS with a certificate made by openssl, plain HTTP redirected, HSTS on TLS responses.
@Suite(.timeLimit(.minutes(2))) struct EdgeConfigurationTests {
    static let haproxy = "/usr/sbin/haproxy"
    static var configuration: String { repositoryRoot + "/deploy/haproxy/haproxy.cfg" }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = NSTemporaryDirectory() + "voiceflow-run-\(UUID().uuidString).log"
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: output) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// A self-signed certificate for localhost, with its key, in one PEM file (HAProxy's `crt`).
    static func certificate(in directory: String) throws -> (pem: String, certificate: String) {
        let (status, output) = try run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
        ])
        #expect(status == 0, "\(output)")
        let pem = try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8) + String(contentsOfFile: directory + "/key.pem", encoding: .utf8)
        try pem.write(toFile: directory + "/edge.pem", atomically: true, encoding: .utf8)
        return (directory + "/edge.pem", directory + "/cert.pem")
    }

    static func freePort() throws -> Int {
        let socket = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? socket.close().wait() }
        return socket.localAddress?.port ?? 0
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: haproxy)))
    func theComposeEdgeServesHTTPSRedirectsHTTPAndSendsHSTS() async throws {
        let directory = NSTemporaryDirectory() + "voiceflow-edge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (pem, certificate) = try Self.certificate(in: directory)
        let (httpPort, httpsPort) = (try Self.freePort(), try Self.freePort())
        let environment = [
            "EDGE_TLS_CERT": pem, "EDGE_COOKIE_KEY": "edge-test-key-0123456789", "EDGE_PUBLIC_HTTPS_PORT": String(httpsPort),
            "EDGE_HANDSHAKES_PER_IP": "300", "EDGE_GATEWAY_MAXCONN": "20000",
        ]

        // The file compose mounts, as it is.
        let (valid, report) = try Self.run(Self.haproxy, ["-c", "-f", Self.configuration], environment: environment)
        #expect(valid == 0, "\(report)")

        // The same file on free loopback ports, served for real.
        let original = try String(contentsOfFile: Self.configuration, encoding: .utf8)
        let local = original.replacingOccurrences(of: "bind :8080", with: "bind 127.0.0.1:\(httpPort)")
            .replacingOccurrences(of: "bind :8443", with: "bind 127.0.0.1:\(httpsPort)")
        #expect(local != original)
        try local.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        let edge = Process()
        edge.executableURL = URL(fileURLWithPath: Self.haproxy)
        edge.arguments = ["-db", "-f", directory + "/haproxy.cfg"]
        edge.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        edge.standardOutput = FileHandle.nullDevice
        edge.standardError = FileHandle.nullDevice
        try edge.run()
        defer {
            kill(edge.processIdentifier, SIGKILL)
            edge.waitUntilExit()
        }
        // Until the edge answers its health check over HTTP.
        var up = false
        for _ in 0..<200 where !up {
            up = (try Self.run("/usr/bin/curl", ["-fsS", "-o", "/dev/null", "http://127.0.0.1:\(httpPort)/edge/health"])).0 == 0
            if !up { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(up)

        let (_, redirect) = try Self.run("/usr/bin/curl", ["-sS", "-D", "-", "-o", "/dev/null", "http://localhost:\(httpPort)/api/v1/rooms?page=2"])
        #expect(redirect.hasPrefix("HTTP/1.1 301"), "\(redirect)")
        #expect(redirect.lowercased().contains("location: https://localhost:\(httpsPort)/api/v1/rooms?page=2"), "\(redirect)")
        #expect(!redirect.lowercased().contains("strict-transport-security"))

        let (status, response) = try Self.run("/usr/bin/curl", [
            "-sS", "--cacert", certificate, "-D", "-", "https://localhost:\(httpsPort)/no/such/route",
        ])
        #expect(status == 0, "\(response)")
        #expect(response.contains("404"), "\(response)")
        #expect(response.lowercased().contains("strict-transport-security: max-age=63072000; includesubdomains"), "\(response)")
        #expect(response.contains(#""code":"NOT_FOUND""#), "\(response)")
        // Without the certificate's CA, curl refuses the edge: it is the self-signed one, over TLS.
        #expect(try Self.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "https://localhost:\(httpsPort)/"]).0 != 0)
    }
}

