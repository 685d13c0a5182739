import AuthService
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import VoiceFlowCommon

/// The auth service's JSON bodies as a client sees them.
struct Session: Decodable {
    var token: String
    var refreshToken: String
    var user: UserDTO
    var expiresIn: Int
}

struct Credentials {
    var username: String
    var email: String
    var password: String

    static func unique(_ prefix: String = "u") -> Credentials {
        let suffix = TestEnvironment.uniqueSuffix()
        return Credentials(username: "\(prefix)_\(suffix)", email: "\(prefix).\(suffix)@example.com", password: "correct horse \(suffix)")
    }

    var registration: [String: String] {
        ["username": username, "email": email, "password": password, "confirmPassword": password]
    }
}

/// Runs the auth application in-process over real HTTP.
func withAuthService(
    _ overrides: [String: String] = [:],
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    try await withAuthService(overrides, configure: { _ in }, body)
}

/// Runs the auth application in-process over real HTTP, with settings changed by `configure`.
func withAuthService(
    _ overrides: [String: String] = [:],
    configure: (inout AuthConfiguration) -> Void,
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    // Every test client comes from 127.0.0.1, so per-address limits are lifted unless a test sets them.
    let variables = ["RATE_LIMIT_EMAIL_CHANGES_PER_IP": "1000000", "RATE_LIMIT_EMAIL_CONFIRM_PER_IP": "1000000"]
        .merging(overrides) { $1 }
    var configuration = try AuthConfiguration(environment: EnvironmentReader(TestEnvironment.serviceVariables(variables)))
    configure(&configuration)
    let application = try await buildApplication(configuration: configuration, logger: TestEnvironment.logger("auth"))
    try await application.test(.live) { client in try await body(client) }
}

extension TestClientProtocol {
    /// Sends `body` as JSON, with an optional bearer token.
    @discardableResult
    func send<Result>(
        _ method: HTTPRequest.Method, _ uri: String, json body: [String: String?]? = nil, token: String? = nil,
        headers extra: HTTPFields = [:],
        _ check: @escaping (TestResponse) async throws -> Result
    ) async throws -> Result {
        var headers = extra
        if body != nil { headers[.contentType] = "application/json" }
        if let token { headers[.authorization] = "Bearer \(token)" }
        let buffer = try body.map { try ByteBuffer.json($0) }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer, testCallback: check)
    }

    /// Registers `credentials` and returns the session.
    func register(_ credentials: Credentials) async throws -> Session {
        try await send(.post, "/api/v1/auth/register", json: credentials.registration) { response throws in
            guard response.status == .created else {
                throw AuthTestFailure(status: response.status.code, body: String(buffer: response.body))
            }
            return try response.json(Session.self)
        }
    }
}

struct AuthTestFailure: Error {
    var status: Int
    var body: String
}
