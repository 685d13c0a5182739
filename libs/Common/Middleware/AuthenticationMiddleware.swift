import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Requires a valid `Authorization: Bearer <access token>` and puts the caller in the context.
///
/// ```swift
/// router.group("api/v1/users").add(middleware: AuthenticationMiddleware(verifier: verifier))
/// ```
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let verifier: TokenVerifier

    /// Creates the middleware over a verifier.
    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let token = Self.bearerToken(request.headers) else {
            throw APIError.unauthorized("Missing bearer token")
        }
        var context = context
        let identity = try await verifier.verify(token)
        context.identity = identity
        context.logger[metadataKey: "user.id"] = .string(identity.id.lowercasedString)
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer` header, if well-formed.
    public static func bearerToken(_ headers: HTTPFields) -> String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Spaces and tabs around the token are dropped (a token itself holds neither).
        var token = parts[1]
        while let first = token.first, first == " " || first == "\t" { token.removeFirst() }
        while let last = token.last, last == " " || last == "\t" { token.removeLast() }
        return token.isEmpty || token.utf8.count > 4096 ? nil : String(token)
    }
}
