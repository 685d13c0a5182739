import Hummingbird
import HTTPTypes

/// Adds the Helmet defaults that make sense for a JSON API to every response (a service that
/// serves pages gives its own Content-Security-Policy).
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    /// The API's policy: nothing may be loaded or framed.
    public static let apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

    private let hstsEnabled: Bool
    private let contentSecurityPolicy: String

    /// Creates the middleware; HSTS only when served over TLS (`HSTS_ENABLED`).
    public init(hstsEnabled: Bool, contentSecurityPolicy: String = Self.apiContentSecurityPolicy) {
        self.hstsEnabled = hstsEnabled
        self.contentSecurityPolicy = contentSecurityPolicy
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        Self.apply(to: &response.headers, hsts: hstsEnabled, contentSecurityPolicy: contentSecurityPolicy)
        return response
    }

    static func apply(to headers: inout HTTPFields, hsts: Bool, contentSecurityPolicy: String = apiContentSecurityPolicy) {
        let fixed: [(String, String)] = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", contentSecurityPolicy),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("X-DNS-Prefetch-Control", "off"),
            ("X-Permitted-Cross-Domain-Policies", "none"),
            ("X-Download-Options", "noopen"),
        ]
        for (name, value) in fixed {
            headers[HTTPField.Name(name)!] = value
        }
        if headers[.cacheControl] == nil {
            headers[.cacheControl] = "no-store"
        }
        if hsts {
            headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=15552000; includeSubDomains"
        }
    }
}
