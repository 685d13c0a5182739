import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon
import WebService

/// The web service over real HTTP, serving a built client written to a temporary folder.
@Suite(.timeLimit(.minutes(1))) struct SiteTests {
    /// A client "build": index.html, a hashed script and its gzip sibling.
    static func withSite(built: Bool = true, _ body: @escaping @Sendable (any TestClientProtocol, URL) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("voiceflow-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("assets"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        if built {
            try Data("<!doctype html><script defer src=\"/assets/app-0123456789ab.js\"></script>".utf8)
                .write(to: root.appendingPathComponent("index.html"))
            try Data("console.log('voiceflow')".utf8).write(to: root.appendingPathComponent("assets/app-0123456789ab.js"))
            // Any bytes do for the test: what matters is which file is sent.
            try Data("gzipped-bytes".utf8).write(to: root.appendingPathComponent("assets/app-0123456789ab.js.gz"))
        }
        let configuration = try WebConfiguration(environment: EnvironmentReader(["PORT": "0", "WEB_ROOT": root.path, "LOG_LEVEL": "warning"]))
        let application = buildApplication(configuration: configuration, logger: TestEnvironment.logger("web"))
        try await application.test(.live) { client in try await body(client, root) }
    }

    @Test func theClientsRoutesAnswerWithItsPageNeverCached() async throws {
        try await Self.withSite { client, _ in
            for path in ["/", "/rooms/6f1c2d3e-0000-4000-8000-000000000001", "/join/ABCD1234"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.headers[.cacheControl] == "no-cache")
                    let policy = response.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
                    #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
                    #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                    #expect(String(buffer: response.body).hasPrefix("<!doctype html>"))
                }
            }
            try await client.execute(uri: "/elsewhere", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try response.json(ErrorBody.self).code
                #expect(code == "NOT_FOUND")
            }
            try await client.execute(uri: "/", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    @Test func assetsAreImmutableGzippedWhenAcceptedAndRevalidated() async throws {
        try await Self.withSite { client, _ in
            let path = "/assets/app-0123456789ab.js"
            let tag = try await client.execute(uri: path, method: .get, headers: [.acceptEncoding: "br, gzip;q=0.8"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentEncoding] == "gzip")
                #expect(response.headers[.vary] == "Accept-Encoding")
                #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(String(buffer: response.body) == "gzipped-bytes")
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.headers[.contentEncoding] == nil)
                #expect(String(buffer: response.body) == "console.log('voiceflow')")
            }
            try await client.execute(uri: path, method: .get, headers: [.ifNoneMatch: tag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/assets/app-ffffffffffff.js", method: .get) { response in
                #expect(response.status == .notFound)
            }
            // Only the build's files: nothing outside the folder, and not index.html as an asset.
            try await client.execute(uri: "/assets/%2e%2e/index.html", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func anUnbuiltClientAnswers503UntilItIsBuilt() async throws {
        try await Self.withSite(built: false) { client, _ in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let code = try response.json(ErrorBody.self).code
                #expect(code == "SERVICE_UNAVAILABLE")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
