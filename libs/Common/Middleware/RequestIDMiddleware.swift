import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id: the caller's `X-Request-Id` when it is sane, else a fresh one.
///
/// The id goes into the logger's metadata (`request.id`, so every line of the request carries it)
/// and back to the caller in `X-Request-Id`.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    static let header = HTTPField.Name("X-Request-Id")!

    /// Creates the middleware.
    public init() {}

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[Self.header].flatMap(Self.sanitized) ?? context.id
        context.logger[metadataKey: "request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }

    /// Accepts up to 128 characters of `[A-Za-z0-9._-]`; anything else is replaced, not echoed.
    static func sanitized(_ value: String) -> String? {
        guard !value.isEmpty, value.count <= 128,
            value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSetASCII.isAlphanumeric($0) || "._-".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }
}

enum CharacterSetASCII {
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
