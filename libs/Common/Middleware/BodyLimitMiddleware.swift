import Hummingbird
import HTTPTypes

/// Enforces the request body limit (`MAX_BODY_BYTES`).
///
/// A declared `Content-Length` over the limit is refused before any byte is read; chunked bodies are
/// bounded when handlers collect them (``Request/decodeJSON(as:context:)`` uses the same limit).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let limit: Int
    private let overrides: [(pathPrefix: String, limit: Int)]

    /// Creates the middleware with a limit in bytes, and larger limits for some path prefixes
    /// (uploads), which then enforce their own limit while streaming.
    public init(limit: Int, overrides: [(pathPrefix: String, limit: Int)] = []) {
        self.limit = limit
        self.overrides = overrides
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        let limit = overrides.first { path.hasPrefix($0.pathPrefix) }?.limit ?? self.limit
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.payloadTooLarge(limit: limit)
        }
        var context = context
        context.maxUploadSize = limit
        return try await next(request, context)
    }
}
