import Hummingbird
import HTTPTypes

/// CORS for the configured origins (`FRONTEND_URL`, `SOCKET_CORS_ORIGIN`), credentials allowed.
///
/// Unlisted origins get no CORS headers, so browsers refuse them; preflights are answered here.
public struct CORSPolicyMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let allowedOrigins: Set<String>

    /// Creates the middleware; `"*"` in the list allows any origin (without credentials).
    public init(allowedOrigins: [String]) {
        self.allowedOrigins = Set(allowedOrigins.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let origin = request.headers[.origin] else {
            return try await next(request, context)
        }
        let wildcard = allowedOrigins.contains("*")
        let allowed = wildcard || allowedOrigins.contains(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var headers = HTTPFields()
            if allowed {
                headers[.accessControlAllowOrigin] = wildcard ? "*" : origin
                headers[.accessControlAllowMethods] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
                headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Request-Id"
                headers[.accessControlMaxAge] = "600"
                if !wildcard { headers[.accessControlAllowCredentials] = "true" }
            }
            headers[.vary] = "Origin"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        if allowed {
            response.headers[.accessControlAllowOrigin] = wildcard ? "*" : origin
            response.headers[.accessControlExposeHeaders] = "Retry-After, X-Request-Id"
            if !wildcard { response.headers[.accessControlAllowCredentials] = "true" }
        }
        response.headers[.vary] = "Origin"
        return response
    }
}
