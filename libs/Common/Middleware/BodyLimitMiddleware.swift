import Hummingbird
import HTTPTypes

/// Enforces the request body limit (`MAX_BODY_BYTES`).
///
/// A declared `Content-Length` over the limit is refused before any byte is read; chunked bodies are
/// bounded when handlers collect them (``Request/decodeJSON(as:context:)`` uses the same limit).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let limit: Int

    /// Creates the middleware with a limit in bytes.
    public init(limit: Int) {
        self.limit = limit
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.payloadTooLarge(limit: limit)
        }
        var context = context
        context.maxUploadSize = limit
        return try await next(request, context)
    }
}
